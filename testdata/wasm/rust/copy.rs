// copy.rs: the task of ../wat/copy.wat written in Rust against the Glacier
// ABI (docs/abi.md), with std and no crates or SDK. It copies its input
// dataset "in" to its output dataset "out", 64 KiB at a time, then logs one
// line to stdout: the byte count and its task context. On any host error it
// records a message with task_fail (the same messages as copy.wat) and exits
// with code 1, so the runtime commits nothing.
//
// Built by ../build-native.sh, from this directory, with Debian's rustc and
// its wasm32-wasi std (Debian: rustc libstd-rust-dev-wasm32 lld-16; rustc's
// own rust-lld is not packaged, so lld-16's wasm-ld links):
//
//   /usr/bin/rustc --target wasm32-wasi -O -C strip=symbols \
//       -C linker=wasm-ld-16 -o copy.wasm copy.rs

#[link(wasm_import_module = "glacier_v1")]
extern "C" {
    fn task_context(buf: *mut u8, cap: u32, len: *mut u32) -> u32;
    fn dataset_open(name: *const u8, name_len: u32, mode: u32, handle: *mut u32) -> u32;
    fn dataset_read(handle: u32, buf: *mut u8, len: u32, n: *mut u32) -> u32;
    fn dataset_write(handle: u32, buf: *const u8, len: u32, n: *mut u32) -> u32;
    fn dataset_close(handle: u32) -> u32;
    fn task_fail(msg: *const u8, msg_len: u32) -> u32;
}

const ERRNO_RANGE: u32 = 6;
const MODE_READ: u32 = 0;
const MODE_WRITE: u32 = 1;

/// fail records msg as the reason the task failed and exits with code 1.
fn fail(msg: &str) -> ! {
    unsafe { task_fail(msg.as_ptr(), msg.len() as u32) };
    std::process::exit(1)
}

fn open(name: &str, mode: u32) -> Option<u32> {
    let mut handle = 0;
    let errno = unsafe { dataset_open(name.as_ptr(), name.len() as u32, mode, &mut handle) };
    (errno == 0).then(|| handle)
}

fn main() {
    // Ask for the context's length with an empty buffer, then fetch it.
    let mut len = 0;
    if unsafe { task_context(std::ptr::null_mut(), 0, &mut len) } != ERRNO_RANGE {
        fail("copy: cannot read the task context");
    }
    let mut ctx = vec![0u8; len as usize];
    if unsafe { task_context(ctx.as_mut_ptr(), len, &mut len) } != 0 {
        fail("copy: cannot read the task context");
    }
    ctx.truncate(len as usize);

    let input = open("in", MODE_READ).unwrap_or_else(|| fail("copy: cannot open input \"in\""));
    let output = open("out", MODE_WRITE).unwrap_or_else(|| fail("copy: cannot open output \"out\""));

    let mut buf = vec![0u8; 64 << 10];
    let mut total: u64 = 0;
    loop {
        let mut n = 0;
        if unsafe { dataset_read(input, buf.as_mut_ptr(), buf.len() as u32, &mut n) } != 0 {
            fail("copy: reading input \"in\" failed");
        }
        if n == 0 {
            break; // the end of the input
        }
        // The host takes all of a buffer or fails.
        if unsafe { dataset_write(output, buf.as_ptr(), n, &mut n) } != 0 {
            fail("copy: writing output \"out\" failed");
        }
        total += n as u64;
    }
    unsafe { dataset_close(input) };
    if unsafe { dataset_close(output) } != 0 {
        fail("copy: closing output \"out\" failed");
    }

    let ctx = String::from_utf8_lossy(&ctx);
    println!("copy (Rust): copied {total} bytes; task context {ctx}");
    // Returning from main is exit code 0: the runtime commits "out".
}
