//! Micro-benchmarks for the hot path: request parsing, reply encoding and keyspace access.

use divan::{Bencher, black_box};
use ferrodis::protocol::{Reply, RequestParser};
use ferrodis::storage::access::AccessClock;
use ferrodis::storage::{DbView, Keyspace, StrValue, Value};

fn main() {
    divan::main();
}

/// 16 pipelined `SET key:<n> <32-byte value>` requests.
fn pipeline() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..16 {
        let key = format!("key:{i:012}");
        buf.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n$32\r\n", key.len(), key).as_bytes(),
        );
        buf.extend_from_slice(&[b'v'; 32]);
        buf.extend_from_slice(b"\r\n");
    }
    buf
}

#[divan::bench]
fn parse_16_pipelined_sets(b: Bencher) {
    let buf = pipeline();
    let mut parser = RequestParser::default();
    b.bench_local(|| {
        let mut at = 0;
        let mut n = 0;
        while let Ok(ferrodis::protocol::parse::Parsed::Request(len)) =
            parser.parse(&buf[at..], 512 << 20, true)
        {
            n += parser.args(&buf[at..]).len();
            at += len;
        }
        black_box(n)
    });
}

#[divan::bench]
fn encode_bulk_replies(b: Bencher) {
    let mut reply = Reply::new();
    let value = [b'x'; 32];
    b.bench_local(|| {
        reply.out.clear();
        for _ in 0..16 {
            reply.bulk(&value);
        }
        black_box(reply.out.len())
    });
}

fn view<'a>(ks: &'a Keyspace, key: &[u8]) -> DbView<'a> {
    DbView::new(
        ks,
        ks.lock_keys(std::iter::once(key)),
        0,
        1,
        AccessClock::Lru(0),
    )
}

#[divan::bench(args = [10_000, 1_000_000])]
fn keyspace_get_hit(b: Bencher, keys: usize) {
    let ks = Keyspace::new(16);
    let names: Vec<Vec<u8>> = (0..keys)
        .map(|i| format!("key:{i:012}").into_bytes())
        .collect();
    for k in &names {
        view(&ks, k).set(k, Value::Str(StrValue::from_bytes(&[b'v'; 32])), 0);
    }
    let mut i = 0;
    b.bench_local(|| {
        i = (i + 7919) % keys;
        let k = &names[i];
        let mut v = view(&ks, k);
        black_box(v.get_read(k).is_some())
    });
}

#[divan::bench]
fn keyspace_set_new_keys(b: Bencher) {
    let ks = Keyspace::new(16);
    let mut i = 0u64;
    b.bench_local(|| {
        i += 1;
        let k = format!("key:{i:012}");
        view(&ks, k.as_bytes()).set(k.as_bytes(), Value::Str(StrValue::from_bytes(b"value")), 0);
    });
}
