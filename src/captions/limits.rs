//! The sizes every stage of a template (checking, pasting, minijinja) agrees on, kept
//! apart so that those stages need not import one another for them.

/// Largest text any one field of a post gives a template; longer fields are
/// cut by the engine. Titles and summaries are a few hundred bytes.
pub const MAX_FIELD_BYTES: usize = 2 * 1024;
/// Largest rendered output before fitting; far above every platform limit,
/// small enough that a template multiplying text cannot eat memory.
pub const MAX_OUTPUT_BYTES: usize = 256 * 1024;
/// Largest template source accepted on save.
pub const MAX_SOURCE_BYTES: usize = 8 * 1024;
