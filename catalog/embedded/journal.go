package embedded

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"strconv"
	"unicode/utf8"
)

// The journal (<dir>/journal) holds every write since the last snapshot,
// one record per line, appended and fsynced before the write returns:
//
//	<CRC-32C of the JSON, 8 hex digits> <JSON>\n
//	JSON: {"n": sequence, "t": unix milliseconds, "c": [[arg, ...], ...]}
//
// One record is one command or one MULTI/EXEC's commands (without MULTI and
// EXEC), replayed the same way. An argument is a JSON string, or
// {"b": base64} when it is not valid UTF-8. The snapshot file uses the same
// line framing for its single line.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type record struct {
	Seq  uint64   `json:"n"`
	Time int64    `json:"t"`
	Cmds [][]bstr `json:"c"`
}

// bstr is a binary-safe string for JSON.
type bstr string

// MarshalJSON implements [json.Marshaler].
func (b bstr) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(b)) {
		return json.Marshal(string(b))
	}
	return json.Marshal(struct {
		B []byte `json:"b"`
	}{[]byte(b)})
}

// UnmarshalJSON implements [json.Unmarshaler].
func (b *bstr) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '{' {
		var v struct {
			B []byte `json:"b"`
		}
		err := json.Unmarshal(data, &v)
		*b = bstr(v.B)
		return err
	}
	var s string
	err := json.Unmarshal(data, &s)
	*b = bstr(s)
	return err
}

func encodeLine(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	line := make([]byte, 0, 10+len(js))
	line = fmt.Appendf(line, "%08x ", crc32.Checksum(js, castagnoli))
	line = append(line, js...)
	return append(line, '\n'), nil
}

func decodeLine(line []byte, v any) error {
	if len(line) < 10 || line[8] != ' ' {
		return errors.New("not a journal line")
	}
	want, err := strconv.ParseUint(string(line[:8]), 16, 32)
	if err != nil {
		return errors.New("malformed checksum")
	}
	js := line[9:]
	if got := crc32.Checksum(js, castagnoli); uint64(got) != want {
		return fmt.Errorf("checksum mismatch (stored %08x, computed %08x)", want, got)
	}
	if err := json.Unmarshal(js, v); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	return nil
}

// readJournal returns the records in the first limit bytes of path (all of
// it if limit < 0) and the length of the part that holds them. A bad last
// line is what kill -9 in the middle of an append leaves behind: it is
// dropped with a warning (its write never returned). A bad line anywhere
// else is corruption, and an error naming it.
func readJournal(path string, limit int64, log *slog.Logger) ([]record, int64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: read journal: %w", err)
	}
	if limit >= 0 && int64(len(data)) > limit {
		data = data[:limit]
	}
	var recs []record
	off := 0
	for lineNo := 1; off < len(data); lineNo++ {
		line, next := data[off:], len(data)
		end := bytes.IndexByte(line, '\n')
		if end >= 0 {
			line, next = line[:end], off+end+1
		}
		var r record
		err := decodeLine(line, &r)
		switch {
		case err == nil && end < 0:
			err = errors.New("no line end")
		case err == nil && len(recs) > 0 && r.Seq <= recs[len(recs)-1].Seq:
			err = fmt.Errorf("sequence number %d after %d", r.Seq, recs[len(recs)-1].Seq)
		}
		if err != nil {
			if next < len(data) {
				return nil, 0, fmt.Errorf("catalog: journal %s line %d: %w", path, lineNo, err)
			}
			log.Warn("dropping torn last journal record", "file", path, "line", lineNo, "bytes", len(line), "error", err)
			return recs, int64(off), nil
		}
		recs = append(recs, r)
		off = next
	}
	return recs, int64(off), nil
}

// journal appends records to the journal file.
type journal struct {
	path string
	f    *os.File
	size int64
}

// openJournal opens path for appending after its first size bytes, cutting
// off a torn tail so that the next record starts on a line of its own.
func openJournal(path string, size int64) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("catalog: open journal: %w", err)
	}
	j := &journal{path: path, f: f, size: size}
	if fi, err := f.Stat(); err != nil || fi.Size() != size {
		if err := j.truncate(size); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	return j, nil
}

// append writes line and fsyncs it. On failure it tries to cut the file
// back, so that a half-written line cannot end up in the middle.
func (j *journal) append(line []byte) error {
	_, err := j.f.WriteAt(line, j.size)
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		_ = j.f.Truncate(j.size)
		return err
	}
	j.size += int64(len(line))
	return nil
}

func (j *journal) truncate(size int64) error {
	if err := j.f.Truncate(size); err != nil {
		return fmt.Errorf("catalog: truncate journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("catalog: sync journal: %w", err)
	}
	j.size = size
	return nil
}

func (j *journal) close() error { return j.f.Close() }
