;; parts.wat: a task written directly against the Glacier ABI (docs/abi.md)
;; that works part by part, with no SDK and no language runtime. It lists
;; the parts of its partitioned input "in" and copies each to the part with
;; the same key of its partitioned output "out", bytes unchanged, 64 KiB at
;; a time. Declare it, without map:, as
;;
;;   datasets:
;;     in:  {source: logs, partitioned: true}
;;     out: {partitioned: true}
;;   tasks:
;;     copy_parts:
;;       module: testdata/wasm/wat/parts.wasm
;;       inputs: [in]
;;       outputs: [out]
;;
;; An input with no parts leaves "out" with none, and the runtime fails the
;; task for it. On any host error it records a message with task_fail and
;; exits with code 1, so the runtime commits nothing.
;;
;; Assemble with: wat2wasm parts.wat -o parts.wasm
;; (scripts/regen does; a test checks parts.wasm is up to date.)
(module
  (import "glacier_v1" "dataset_parts"
    (func $dataset_parts (param $name_ptr i32) (param $name_len i32) (param $buf_ptr i32) (param $buf_cap i32) (param $len_ptr i32) (result i32)))
  (import "glacier_v1" "dataset_open_part"
    (func $dataset_open_part (param $name_ptr i32) (param $name_len i32) (param $key_ptr i32) (param $key_len i32) (param $mode i32) (param $handle_ptr i32) (result i32)))
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

  ;; Two pages to start with. Layout:
  ;;   0    in handle (u32)     4  out handle (u32)
  ;;   8    byte count (u32)    12 length of the list of keys (u32)
  ;;   16   "in"                24 "out"
  ;;   64.. failure messages
  ;;   65536..131071 the copy buffer (64 KiB)
  ;;   131072.. the list of keys; memory grows to hold it
  (memory (export "memory") 2)

  (data (i32.const 16) "in")
  (data (i32.const 24) "out")
  (data (i32.const 64) "parts: cannot list the parts of input \22in\22")        ;; 42 bytes
  (data (i32.const 128) "parts: no memory for the list of parts")            ;; 38 bytes
  (data (i32.const 192) "parts: cannot open a part of input \22in\22")         ;; 39 bytes
  (data (i32.const 256) "parts: cannot open a part of output \22out\22")       ;; 41 bytes
  (data (i32.const 320) "parts: reading a part of input \22in\22 failed")      ;; 42 bytes
  (data (i32.const 384) "parts: writing a part of output \22out\22 failed")    ;; 44 bytes
  (data (i32.const 448) "parts: closing a part of output \22out\22 failed")    ;; 44 bytes

  (global $buf i32 (i32.const 65536))
  (global $buf_len i32 (i32.const 65536))
  (global $list i32 (i32.const 131072))

  ;; fail records the message at [ptr, ptr+len) and exits with code 1.
  (func $fail (param $ptr i32) (param $len i32)
    (drop (call $task_fail (local.get $ptr) (local.get $len)))
    (call $proc_exit (i32.const 1))
    unreachable)

  ;; copy_part copies the part of "in" whose key is [key, key+key_len) to
  ;; the part of "out" with the same key.
  (func $copy_part (param $key i32) (param $key_len i32)
    (local $n i32)
    ;; Mode 0 reads a part of an input; mode 1 starts a part of an output.
    (if (call $dataset_open_part (i32.const 16) (i32.const 2) (local.get $key) (local.get $key_len) (i32.const 0) (i32.const 0))
      (then (call $fail (i32.const 192) (i32.const 39))))
    (if (call $dataset_open_part (i32.const 24) (i32.const 3) (local.get $key) (local.get $key_len) (i32.const 1) (i32.const 4))
      (then (call $fail (i32.const 256) (i32.const 41))))

    (block $eof
      (loop $copy
        (if (call $dataset_read (i32.load (i32.const 0)) (global.get $buf) (global.get $buf_len) (i32.const 8))
          (then (call $fail (i32.const 320) (i32.const 42))))
        (local.set $n (i32.load (i32.const 8)))
        ;; A count of zero is the end of the part.
        (br_if $eof (i32.eqz (local.get $n)))
        ;; The host writes all of a buffer or fails.
        (if (call $dataset_write (i32.load (i32.const 4)) (global.get $buf) (local.get $n) (i32.const 8))
          (then (call $fail (i32.const 384) (i32.const 44))))
        (br $copy)))

    ;; Closing frees the handles, so any number of parts can be copied.
    (drop (call $dataset_close (i32.load (i32.const 0))))
    (if (call $dataset_close (i32.load (i32.const 4)))
      (then (call $fail (i32.const 448) (i32.const 44)))))

  (func (export "_start")
    (local $e i32)
    (local $len i32)
    (local $pages i32)
    (local $p i32)
    (local $key i32)
    (local $end i32)
    ;; With no buffer, dataset_parts writes only the length of the list and
    ;; returns ErrnoRange (6), or succeeds if the list is empty.
    (local.set $e (call $dataset_parts (i32.const 16) (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 12)))
    (if (i32.and (i32.ne (local.get $e) (i32.const 0)) (i32.ne (local.get $e) (i32.const 6)))
      (then (call $fail (i32.const 64) (i32.const 42))))
    (local.set $len (i32.load (i32.const 12)))

    ;; Grow memory until the list fits at $list.
    (if (i32.gt_u (local.get $len) (i32.sub (i32.const -1) (global.get $list)))
      (then (call $fail (i32.const 128) (i32.const 38))))
    (local.set $pages
      (i32.sub
        (i32.wrap_i64 (i64.shr_u (i64.add (i64.extend_i32_u (i32.add (global.get $list) (local.get $len))) (i64.const 65535)) (i64.const 16)))
        (memory.size)))
    (if (i32.gt_s (local.get $pages) (i32.const 0))
      (then
        (if (i32.eq (memory.grow (local.get $pages)) (i32.const -1))
          (then (call $fail (i32.const 128) (i32.const 38))))))

    ;; The list does not change during an invocation, so it now fits.
    (if (call $dataset_parts (i32.const 16) (i32.const 2) (global.get $list) (local.get $len) (i32.const 12))
      (then (call $fail (i32.const 64) (i32.const 42))))

    ;; Each key is followed by '\n' (10), which no key holds.
    (local.set $p (global.get $list))
    (local.set $key (global.get $list))
    (local.set $end (i32.add (global.get $list) (i32.load (i32.const 12))))
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 10))
          (then
            (call $copy_part (local.get $key) (i32.sub (local.get $p) (local.get $key)))
            (local.set $key (i32.add (local.get $p) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $scan)))
    ;; Returning from _start is exit code 0: the runtime commits "out",
    ;; all its parts at once.
  )
)
