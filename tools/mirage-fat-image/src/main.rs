//! `mirage-fat-image DIR IMAGE`: a FAT image of a directory.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Builds a FAT filesystem image holding the files and directories of DIR, sized to fit.
#[derive(Parser)]
#[command(name = "mirage-fat-image", version)]
struct Args {
    /// The directory to copy into the image.
    dir: PathBuf,
    /// The image file to write (replaced if it exists).
    image: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match mirage_unix::run(mirage_fat_image::build(&args.dir, &args.image)) {
        Ok(size) => {
            println!("{}: {size} bytes", args.image.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("mirage-fat-image: {error}");
            ExitCode::FAILURE
        }
    }
}
