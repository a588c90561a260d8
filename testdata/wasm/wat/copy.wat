;; copy.wat: a task written directly against the Glacier ABI (docs/abi.md),
;; with no SDK and no language runtime. It copies its input dataset "in" to
;; its output dataset "out", 64 KiB at a time. Declare it as
;;
;;   tasks:
;;     copy:
;;       module: testdata/wasm/wat/copy.wasm
;;       inputs: [in]
;;       outputs: [out]
;;
;; On any host error it records a message with task_fail and exits with
;; code 1, so the runtime commits nothing.
;;
;; Assemble with: wat2wasm copy.wat -o copy.wasm
;; (scripts/install-wabt.sh installs wat2wasm; a test checks copy.wasm is
;; up to date.)
(module
  (import "glacier_v1" "dataset_open"
    (func $dataset_open (param $name_ptr i32) (param $name_len i32) (param $mode i32) (param $handle_ptr i32) (result i32)))
  (import "glacier_v1" "dataset_read"
    (func $dataset_read (param $handle i32) (param $buf_ptr i32) (param $buf_len i32) (param $n_ptr i32) (result i32)))
  (import "glacier_v1" "dataset_write"
    (func $dataset_write (param $handle i32) (param $buf_ptr i32) (param $buf_len i32) (param $n_ptr i32) (result i32)))
  (import "glacier_v1" "dataset_close"
    (func $dataset_close (param $handle i32) (result i32)))
  (import "glacier_v1" "task_fail"
    (func $task_fail (param $msg_ptr i32) (param $msg_len i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param $code i32)))

  ;; Two pages. Layout:
  ;;   0    in handle (u32)     4  out handle (u32)     8  byte count (u32)
  ;;   16   "in"                24 "out"
  ;;   64.. failure messages
  ;;   65536..131071 the copy buffer (64 KiB)
  (memory (export "memory") 2)

  (data (i32.const 16) "in")
  (data (i32.const 24) "out")
  (data (i32.const 64) "copy: cannot open input \22in\22")          ;; 28 bytes
  (data (i32.const 128) "copy: cannot open output \22out\22")       ;; 30 bytes
  (data (i32.const 192) "copy: reading input \22in\22 failed")      ;; 31 bytes
  (data (i32.const 256) "copy: writing output \22out\22 failed")    ;; 33 bytes
  (data (i32.const 320) "copy: closing output \22out\22 failed")    ;; 33 bytes

  (global $buf i32 (i32.const 65536))
  (global $buf_len i32 (i32.const 65536))

  ;; fail records the message at [ptr, ptr+len) and exits with code 1.
  (func $fail (param $ptr i32) (param $len i32)
    (drop (call $task_fail (local.get $ptr) (local.get $len)))
    (call $proc_exit (i32.const 1))
    unreachable)

  (func (export "_start")
    (local $n i32)
    ;; Open "in" for reading (mode 0) and "out" for writing (mode 1).
    (if (call $dataset_open (i32.const 16) (i32.const 2) (i32.const 0) (i32.const 0))
      (then (call $fail (i32.const 64) (i32.const 28))))
    (if (call $dataset_open (i32.const 24) (i32.const 3) (i32.const 1) (i32.const 4))
      (then (call $fail (i32.const 128) (i32.const 30))))

    (block $eof
      (loop $copy
        (if (call $dataset_read (i32.load (i32.const 0)) (global.get $buf) (global.get $buf_len) (i32.const 8))
          (then (call $fail (i32.const 192) (i32.const 31))))
        (local.set $n (i32.load (i32.const 8)))
        ;; A count of zero is the end of the input.
        (br_if $eof (i32.eqz (local.get $n)))
        ;; The host writes all of a buffer or fails.
        (if (call $dataset_write (i32.load (i32.const 4)) (global.get $buf) (local.get $n) (i32.const 8))
          (then (call $fail (i32.const 256) (i32.const 33))))
        (br $copy)))

    (drop (call $dataset_close (i32.load (i32.const 0))))
    (if (call $dataset_close (i32.load (i32.const 4)))
      (then (call $fail (i32.const 320) (i32.const 33))))
    ;; Returning from _start is exit code 0: the runtime commits "out".
  )
)
