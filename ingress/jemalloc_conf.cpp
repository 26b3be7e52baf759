// jemalloc's built-in options for the ingress executables (jemalloc reads the
// `malloc_conf` symbol at start-up, before MALLOC_CONF, which still overrides it).
//
// tcache_max: librdkafka compresses each batch with a fresh LZ4F context whose
// ~68 KiB work buffer comes from calloc(). Above the thread cache's default limit
// (32 KiB) jemalloc serves a zeroed allocation of that size by purging the pages
// (madvise(MADV_DONTNEED)) and letting the kernel fault them in again: a TLB
// shootdown across CPUs and 17 page faults per batch. On a virtual machine that
// took librdkafka's broker thread from ~6 to ~20 µs of CPU per record
// (BENCHMARKS.md, "The LZ4 work buffer"). Cached, the buffer is zeroed by memset.
extern "C" {
const char* malloc_conf = "tcache_max:131072";
}
