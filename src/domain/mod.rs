//! Pure domain types, no I/O, constructed by `parse`/`TryFrom` at the edge
//! ("parse, don't validate").

pub mod answers;
pub mod audience;
pub mod definition;
pub mod email;
pub mod labels;
pub mod role;
pub mod schedule;
pub mod stakeholder;
pub mod token;
pub mod ui_text;
pub mod wave;

pub use email::EmailAddress;
pub use role::Role;
