#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    chime_fuzz::bodies::job_record(data);
});
