//! The allocator of every binary built on the library — `pulse`, the benchmarks, the tests —
//! and how it gives memory back.
//!
//! glibc's allocator spent about a quarter of the stakeholder import's CPU in `malloc` and
//! `free` of the rows' small strings (`perf`); mimalloc takes a fraction of that (README,
//! footnote 12). Left to its defaults it backs its arenas with transparent huge pages and
//! keeps freed memory for a while, which put the import's peak over its 100 MB target (124
//! MB, against 90 MB with glibc): it is built without huge pages (`no_thp`, Cargo.toml) and
//! [`give_memory_back`] has it return freed pages at once.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same number in its v2 and v3 headers,
/// `mimalloc.h`; the crate does not name it).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Return freed pages to the system at once instead of some milliseconds later (what the
/// `MIMALLOC_PURGE_DELAY=0` environment variable does; set here so the product does not
/// depend on its environment). Called first by the CLI and the benchmarks.
pub fn give_memory_back() {
    // SAFETY: `mi_option_set` only stores a value in mimalloc's option table (any option
    // number and value are accepted); the delay is read whenever memory is purged.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_options_are_set_where_mimalloc_reads_them() {
        super::give_memory_back();
        // SAFETY: reads mimalloc's option table.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(delay, 0);
    }
}
