package consensus

import "fmt"

// A log entry is one group-committed batch of commands:
//
//	entry   = version:byte(2) token count:uvarint command*
//	token   = node:string session:uvarint seq:uvarint
//	command = length:uvarint kind:byte fields...
//
// Each command is length-prefixed so that one that fails to decode yields
// an error result for that command alone and the others still apply.
// entryVersion changes whenever the framing or an existing command's
// fields change; new commands get new kinds (command.go). Version 1, the
// pre-release framing without a token, is not applied any more.
const entryVersion byte = 2

// entryToken identifies one proposal of an entry: the proposing node, a
// random session drawn when its store opened (so that sequences never
// repeat across restarts) and the entry's sequence in that session. An
// entry resent after an unknown outcome keeps its token; the FSM applies
// a token once. The zero token (node "") is not deduplicated.
type entryToken struct {
	node    string
	session uint64
	seq     uint64
}

// encodeEntry frames commands as one log entry without a token.
func encodeEntry(cmds [][]byte) []byte { return encodeTokenEntry(entryToken{}, cmds) }

// encodeTokenEntry frames commands as one log entry proposed as tok.
func encodeTokenEntry(tok entryToken, cmds [][]byte) []byte {
	size := 1 + len(tok.node) + 32
	for _, c := range cmds {
		size += len(c) + 10
	}
	e := &encoder{b: make([]byte, 0, size)}
	e.byte(entryVersion)
	e.string(tok.node)
	e.uvarint(tok.session)
	e.uvarint(tok.seq)
	e.uvarint(uint64(len(cmds)))
	for _, c := range cmds {
		e.bytes(c)
	}
	return e.b
}

// decodeEntryHeader reads an entry's version, token and command count,
// leaving d at the first command.
func decodeEntryHeader(d *decoder) (tok entryToken, n int, err error) {
	if v := d.byte(); d.err == nil && v != entryVersion {
		return entryToken{}, 0, fmt.Errorf("unknown format version %d", v)
	}
	tok.node = d.string()
	tok.session = d.uvarint()
	tok.seq = d.uvarint()
	n = d.count(1)
	if d.err != nil {
		return entryToken{}, 0, d.err
	}
	return tok, n, nil
}

// checkEntry reports whether entry is a well-formed log entry: a known
// version and exactly count length-prefixed commands.
func checkEntry(entry []byte) error {
	d := decoder{b: entry}
	_, n, err := decodeEntryHeader(&d)
	if err != nil {
		return err
	}
	for range n {
		d.span()
	}
	if d.err != nil {
		return d.err
	}
	if d.remaining() != 0 {
		return fmt.Errorf("%d bytes after the last command", d.remaining())
	}
	return nil
}
