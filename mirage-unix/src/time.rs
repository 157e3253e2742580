//! `Time` on the host's monotonic clock.

use mirage_types::{Time, async_trait};
use std::time::Duration;

/// V1 `TIME` on Unix (`OS.Time`): real sleeps on tokio's timer.
///
/// Inside a test runtime with paused time, sleeps advance virtual time instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnixTime;

#[async_trait(?Send)]
impl Time for UnixTime {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sleeps_for_the_duration() {
        let start = tokio::time::Instant::now();
        UnixTime.sleep(Duration::from_millis(1500)).await;
        UnixTime.sleep_secs(0.5).await;
        UnixTime.sleep_secs(-1.0).await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
