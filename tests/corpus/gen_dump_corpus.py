# Generates tests/corpus/dump.redis: payload literals come from redis-server 7.0 (port 7301)
# or are built here in older encodings (ziplist, zipmap) with the RDB 9 footer.
import socket, struct, sys

POLY = 0x95AC9329AC4BC9B5
TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)
def crc64(data):
    crc = 0
    for b in data:
        crc = TABLE[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc

def esc(b):
    out = '"'
    for x in b:
        c = chr(x)
        if c.isalnum() or c in ' -_:.,;!@#$%^&*()[]{}<>/?=+~|':
            out += c
        else:
            out += '\\x%02x' % x
    return out + '"'

def payload(body, version):
    p = body + struct.pack('<H', version)
    return p + struct.pack('<Q', crc64(p))

def ziplist(entries):
    body = b''
    prev = 0
    for e in entries:
        if isinstance(e, int):
            if 0 <= e <= 12:
                enc = bytes([0xF1 + e])
            else:
                enc = b'\xc0' + struct.pack('<h', e)
        else:
            assert len(e) < 64
            enc = bytes([len(e)]) + e
        entry = bytes([prev]) + enc
        body += entry
        prev = len(entry)
    total = 10 + len(body) + 1
    tail = 10 + len(body) - prev if entries else 10
    return struct.pack('<IIH', total, tail, len(entries)) + body + b'\xff'

def rdb_string(s):
    assert len(s) < 64
    return bytes([len(s)]) + s

def zipmap(pairs):
    body = bytes([len(pairs)])
    for k, v in pairs:
        body += bytes([len(k)]) + k + bytes([len(v), 0]) + v
    return body + b'\xff'

s = socket.create_connection(('127.0.0.1', 7301))
buf = bytearray()
def readline():
    global buf
    while b'\r\n' not in buf:
        buf += s.recv(65536)
    i = buf.index(b'\r\n'); l = bytes(buf[:i]); del buf[:i+2]; return l
def read():
    l = readline(); t = l[:1]
    if t == b'$':
        n = int(l[1:])
        if n < 0: return None
        while len(buf) < n + 2:
            buf.extend(s.recv(65536))
        d = bytes(buf[:n]); del buf[:n+2]; return d
    if t == b'*':
        return [read() for _ in range(int(l[1:]))]
    return l
def cmd(*a):
    out = b'*%d\r\n' % len(a)
    for x in a:
        if isinstance(x, str): x = x.encode()
        out += b'$%d\r\n%s\r\n' % (len(x), x)
    s.sendall(out)
    return read()

lines = []
w = lines.append
w('# DUMP and RESTORE: payloads byte for byte as redis-server 7.0 writes them (every type')
w('# in its compact and full encodings, LZF and integer strings), RESTORE of payloads in')
w('# older encodings (ziplist, zipmap, RDB 9), options and error texts.')
w('# Generated payload literals: tests/corpus/gen_dump_corpus.py against redis-server 7.0.')
w('')
w('@flush')
w('# ---- strings ------------------------------------------------------------')
strings = [('s_short', 'hello'), ('s_int', '12345'), ('s_neg', '-7'), ('s_i32', '2000000000'),
           ('s_i64', '99999999999'), ('s_zero_lead', '0123'), ('s_lzf', 'a' * 30),
           ('s_text', 'hello world hello world hello world hello world'),
           ('s_big', 'abcdefghij' * 500), ('s_empty', '')]
for k, v in strings:
    w('SET %s %s' % (k, esc(v.encode())))
    w('DUMP %s' % k)
w('SET s_rand "\\x01\\x9a\\xfe\\x33\\x7f\\x00\\x10\\x80\\x91\\xaa\\xbb\\xcc\\xdd\\xee\\xff\\x12\\x34\\x56\\x78\\x9a\\xbc\\xde"')
w('DUMP s_rand')
w('APPEND s_app abc')
w('APPEND s_app 123')
w('DUMP s_app')
w('INCR s_counter')
w('DUMP s_counter')
w('DUMP missing')
w('')
w('# ---- lists (quicklist of listpacks; long lists cut into nodes as Redis does) --')
w('RPUSH l_small a 1 b -2 300 70000 -9000000 5000000000 "" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abc')
w('DUMP l_small')
w('LPUSH l_left x y z')
w('DUMP l_left')
w('RPUSH l_nodes ' + ' '.join('element-%05d' % i for i in range(2500)))
w('DUMP l_nodes')
w('RPUSH l_ints ' + ' '.join(str(i * 37 - 5000) for i in range(3000)))
w('DUMP l_ints')
w('RPUSH l_long ' + ' '.join(('v%d' % i) * 200 for i in range(30)))
w('DUMP l_long')
w('CONFIG SET list-max-listpack-size 5')
w('RPUSH l_count ' + ' '.join(str(i) for i in range(23)))
w('DUMP l_count')
w('CONFIG SET list-max-listpack-size -2')
w('')
w('# ---- hashes ---------------------------------------------------------------')
w('HSET h_lp f1 v1 f2 2 f3 -100 num 1234567890123 empty ""')
w('DUMP h_lp')
w('HSET h_one field ' + 'x' * 64)
w('DUMP h_one')
w('')
w('# ---- sets -----------------------------------------------------------------')
w('SADD set_i16 1 2 3 -7 100')
w('DUMP set_i16')
w('SADD set_i32 1 100000 -5')
w('DUMP set_i32')
w('SADD set_i64 1 5000000000')
w('DUMP set_i64')
w('SREM set_i64 5000000000')
w('DUMP set_i64')
w('SADD set_one member')
w('DUMP set_one')
w('')
w('# ---- sorted sets ----------------------------------------------------------')
w('ZADD z_lp 1 a 2.5 b -3 c 1e20 d 0.1 e inf f -inf g 4503599627370496 h -0 i')
w('DUMP z_lp')
w('ZADD z_sl ' + ' '.join('%d.%d m%d' % (i, i % 7, i) for i in range(200)))
w('OBJECT ENCODING z_sl')
w('DUMP z_sl')
w('ZADD z_long 1 ' + 'y' * 80 + ' 2 short')
w('OBJECT ENCODING z_long')
w('DUMP z_long')
w('')
w('# ---- streams (no delivery times involved) ----------------------------------')
w('XADD x1 1-1 f v g w')
w('XADD x1 1-2 f v2 g w2')
w('XADD x1 2-0 other 1')
w('XADD x1 3-0 f 3 g 4')
w('XDEL x1 1-2')
w('DUMP x1')
w('XGROUP CREATE x1 grp 0')
w('XGROUP CREATE x1 grp2 $')
w('DUMP x1')
w('XSETID x1 10-0 ENTRIESADDED 50 MAXDELETEDID 5-0')
w('DUMP x1')
w('CONFIG SET stream-node-max-entries 3')
w('XADD x2 1-1 a 1')
w('XADD x2 1-2 a 2')
w('XADD x2 1-3 a 3')
w('XADD x2 1-4 a 4 b 5')
w('XADD x2 2-1 a 5')
w('XTRIM x2 MAXLEN 2')
w('DUMP x2')
w('CONFIG SET stream-node-max-entries 100')
w('XADD x_empty 5-5 a b')
w('XDEL x_empty 5-5')
w('DUMP x_empty')
w('')

# Round trips: DUMP -> RESTORE -> DUMP must give the same payload on both servers.
w('# ---- RESTORE of each payload, and DUMP again --------------------------------')
cmd('FLUSHALL')
setup = [
    ['SET', 'k', 'hello'], ['SET', 'n', '-123456'],
    ['RPUSH', 'l'] + ['e%d' % i for i in range(1500)],
    ['HSET', 'h', 'a', '1', 'b', '2'],
    ['SADD', 'si', '5', '6', '7'],
    ['ZADD', 'z', '1', 'a', '2', 'b', '3.5', 'c'],
    ['ZADD', 'zs'] + sum([[str(i), 'm%d' % i] for i in range(300)], []),
    ['XADD', 'x', '7-1', 'f', 'v'],
]
for c in setup:
    cmd(*c)
for k in ['k', 'n', 'l', 'h', 'si', 'z', 'zs', 'x']:
    p = cmd('DUMP', k)
    w('RESTORE r_%s 0 %s' % (k, esc(p)))
    w('TYPE r_%s' % k)
    w('OBJECT ENCODING r_%s' % k)
    w('DUMP r_%s' % k)
w('GET r_k')
w('GET r_n')
w('LRANGE r_l 0 5')
w('LLEN r_l')
w('HGETALL r_h')
w('SMEMBERS r_si')
w('ZRANGE r_z 0 -1 WITHSCORES')
w('ZCARD r_zs')
w('XRANGE r_x - +')

cmd('SADD', 'st', 'x', 'y', 'zz')
cmd('HSET', 'ht', *sum([['f%d' % i, 'v%d' % i] for i in range(200)], []))
w('RESTORE r_st 0 %s' % esc(cmd('DUMP', 'st')))
w('@sorted')
w('SMEMBERS r_st')
w('OBJECT ENCODING r_st')
w('RESTORE r_ht 0 %s' % esc(cmd('DUMP', 'ht')))
w('HLEN r_ht')
w('HGET r_ht f150')
w('OBJECT ENCODING r_ht')
w('')
w('# ---- older encodings (RDB 9 payloads) --------------------------------------')
old = [
    ('o_hash_zl', bytes([13]) + rdb_string(ziplist([b'f1', b'v1', b'f2', 7]))),
    ('o_zset_zl', bytes([12]) + rdb_string(ziplist([b'a', 1, b'b', b'2.5', b'c', 300]))),
    ('o_list_ql', bytes([14, 1]) + rdb_string(ziplist([b'x', 3, b'yy', -2000]))),
    ('o_list_zl', bytes([10]) + rdb_string(ziplist([b'p', b'q', 11]))),
    ('o_hash_zipmap', bytes([9]) + rdb_string(zipmap([(b'k1', b'val1'), (b'k2', b'v2')]))),
    ('o_set_plain', bytes([2, 3]) + rdb_string(b'one') + rdb_string(b'two') + bytes([0xc0, 7])),
    ('o_zset_text', bytes([3, 2]) + rdb_string(b'm1') + bytes([3]) + b'1.5' + rdb_string(b'm2') + bytes([254])),
]
for k, body in old:
    w('RESTORE %s 0 %s' % (k, esc(payload(body, 9))))
    w('TYPE %s' % k)
    w('OBJECT ENCODING %s' % k)
    w('DUMP %s' % k)
w('HGETALL o_hash_zl')
w('ZRANGE o_zset_zl 0 -1 WITHSCORES')
w('LRANGE o_list_ql 0 -1')
w('LRANGE o_list_zl 0 -1')
w('HGETALL o_hash_zipmap')
w('@sorted')
w('SMEMBERS o_set_plain')
w('ZRANGE o_zset_text 0 -1 WITHSCORES')
w('')
w('# ---- options ----------------------------------------------------------------')
kp = esc(payload(b'\x00' + rdb_string(b'val'), 10))
w('RESTORE opt1 0 %s' % kp)
w('RESTORE opt1 0 %s' % kp)
w('RESTORE opt1 0 %s REPLACE' % kp)
w('GET opt1')
w('RESTORE opt2 4102444800000 %s ABSTTL' % kp)
w('PEXPIRETIME opt2')
w('RESTORE opt3 1000 %s ABSTTL' % kp)
w('EXISTS opt3')
w('RESTORE opt1 1000 %s ABSTTL REPLACE' % kp)
w('EXISTS opt1')
w('RESTORE opt4 0 %s IDLETIME 1000' % kp)
w('OBJECT IDLETIME opt4')
w('RESTORE opt5 0 %s FREQ 100' % kp)
w('RESTORE opt6 100000000 %s' % kp)
w('TTL opt6')
w('')
w('# ---- errors -----------------------------------------------------------------')
w('RESTORE e1 -1 %s' % kp)
w('RESTORE e1 abc %s' % kp)
w('RESTORE e1 0 %s IDLETIME -1' % kp)
w('RESTORE e1 0 %s IDLETIME x' % kp)
w('RESTORE e1 0 %s FREQ 256' % kp)
w('RESTORE e1 0 %s FREQ -1' % kp)
w('RESTORE e1 0 %s FREQ 5 IDLETIME 5' % kp)
w('RESTORE e1 0 %s IDLETIME 5 FREQ 5' % kp)
w('RESTORE e1 0 %s BOGUS' % kp)
w('RESTORE e1 0 %s IDLETIME' % kp)
w('RESTORE e1 0 short')
w('RESTORE e1 0 ""')
w('RESTORE e1 0 %s' % esc(payload(b'\x00' + rdb_string(b'val'), 11)))
bad = bytearray(payload(b'\x00' + rdb_string(b'val'), 10)); bad[-1] ^= 1
w('RESTORE e1 0 %s' % esc(bytes(bad)))
w('RESTORE e1 0 %s' % esc(payload(b'\x00\x3fval', 10)))
w('RESTORE e1 0 %s' % esc(payload(b'\x63' + rdb_string(b'val'), 10)))
w('RESTORE e1 0 %s' % esc(payload(bytes([16]) + rdb_string(b'\x07\x00\x00\x00\x00\x00\xff'), 10)))
w('RESTORE e1 0 %s' % esc(payload(bytes([18, 0]), 10)))
w('RESTORE e1 0 %s' % esc(payload(bytes([2, 2]) + rdb_string(b'a') + rdb_string(b'a'), 10)))
w('EXISTS e1')
w('SET busy 1')
w('RESTORE busy 0 %s' % kp)
w('RESTORE busy -5 %s' % kp)
w('RESTORE')
w('RESTORE k')
w('RESTORE k 0')
w('DUMP')
w('DUMP a b')
w('LPUSH wrongtype a')
w('DUMP wrongtype')
w('')
w('# ---- FUNCTION DUMP: LZF-compressed library code, as Redis writes it ----------')
w('FUNCTION FLUSH')
w('FUNCTION LOAD "#!lua name=mylib\\nredis.register_function(\'f1\', function() return 1 end)\\nredis.register_function(\'f2\', function() return 2 end)"')
w('FUNCTION DUMP')
# One library per dump: Redis lists several in its dictionary's (per-process) order.
w('FUNCTION FLUSH')
w('FUNCTION LOAD "#!lua name=short\\nredis.register_function(\'s\', function() return 3 end)"')
w('FUNCTION DUMP')
w('FUNCTION FLUSH')
open(sys.argv[1], 'w').write('\n'.join(lines) + '\n')
