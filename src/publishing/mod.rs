//! Publishing to Instagram: what Meta accepts (checked before a file is taken), where the files
//! wait, and the publisher that turns a due publication into a live post.

pub mod measure;
pub mod rules;
pub mod run;
pub mod samples;
pub mod store;

pub use run::{PublishOptions, PublishSummary, Publisher};
pub use store::MediaStore;
