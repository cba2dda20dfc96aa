;; Messaging echo: handle-message publishes the body to reply-to (when there is one) and returns ok.
(module
  (import "cm32p2|wasmcloud:messaging/consumer@0.2" "publish"
    (func $publish (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (memory (export "cm32p2_memory") 1)
  (global $top (mut i32) (i32.const 4096))
  ;; bump allocator: strings and lists lifted into this instance land above 4096
  (func (export "cm32p2_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $top) (i32.const 7)) (i32.const -8)))
    (global.set $top (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "cm32p2|wasmcloud:messaging/handler@0.2|handle-message")
    (param $subject i32) (param $subject_len i32) (param $body i32) (param $body_len i32)
    (param $has_reply i32) (param $reply i32) (param $reply_len i32) (result i32)
    (if (local.get $has_reply)
      (then
        ;; broker-message {subject: reply-to, body, reply-to: none}; result written at 64
        (call $publish (local.get $reply) (local.get $reply_len) (local.get $body) (local.get $body_len)
                       (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 64))))
    (i32.store8 (i32.const 128) (i32.const 0))
    (i32.const 128)))
