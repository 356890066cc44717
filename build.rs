// The migrations are embedded into the binary (`embed_migrations!`), which does not notice a
// new migration folder by itself: rebuild whenever the folder changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
