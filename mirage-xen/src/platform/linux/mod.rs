//! Linux processes as a Xen platform. So far: the store, through `xenstored`'s socket.

mod xs_socket;

pub use xs_socket::XsSocket;
