// Checksums for change detection: crc64 hashes JSON.stringify(x), crc_64_go_iso hashes strings raw.
function OnUpdate(doc, meta) {
    var bigint;
    try {
        couchbase.crc_64_go_iso(BigInt(1));
        bigint = "no error";
    } catch (e) {
        bigint = e instanceof TypeError ? "TypeError" : String(e);
    }
    out[meta.id] = {
        go_iso: {
            hello: couchbase.crc_64_go_iso("hello"),
            one: couchbase.crc_64_go_iso(1),
            array: couchbase.crc_64_go_iso([1, 2, 3, 4]),
            object: couchbase.crc_64_go_iso({"my_key": "my_value"}),
            null_: couchbase.crc_64_go_iso(null),
            false_: couchbase.crc_64_go_iso(false),
            undefined_: couchbase.crc_64_go_iso(undefined),
            symbol: couchbase.crc_64_go_iso(Symbol("s")),
            date: couchbase.crc_64_go_iso(new Date("2024-05-10")),
            bigint: bigint
        },
        crc64: {
            hello: crc64("hello"),
            one: crc64(1),
            array: crc64([1, 2, 3, 4]),
            object: crc64({"my_key": "my_value"}),
            doc_changed: crc64(doc) !== crc64({v: 0})
        }
    };
}
