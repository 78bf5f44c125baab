//! Mounts the kafkasim app; everything else lives in the library.
fn main() {
    kafkasim_app::start();
}
