package embedded

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/recipesd/recipesd/internal/atomicfile"
)

const snapshotFormat = "recipesd-catalog-snapshot/1"

// snapshot is every key of the embedded store, by type, with its TTL. It
// is written as one journal-framed line to <dir>/snapshot, atomically
// (temporary file, fsync, rename, fsync of the directory).
type snapshot struct {
	Format string    `json:"format"`
	Seq    uint64    `json:"seq"` // last journal record it contains
	Time   int64     `json:"t"`   // unix ms when taken; TTLs count from here
	Keys   []snapKey `json:"keys"`
}

// snapKey is one key. Vals holds a string's value; a list's or set's
// elements; a hash's fields and values, alternating; a sorted set's members
// and scores, alternating; a stream's entries, each as its id, its number
// of fields and values, and those.
type snapKey struct {
	Key       bstr       `json:"k"`
	Type      string     `json:"type"`
	TTL       int64      `json:"ttl_ms,omitempty"`
	Vals      []bstr     `json:"v"`
	FieldTTLs []fieldTTL `json:"field_ttls,omitempty"`
}

type fieldTTL struct {
	Field bstr  `json:"f"`
	TTL   int64 `json:"ttl_ms"`
}

// dump captures m. The caller holds the write lock, so keys change only by
// expiring; a key that expires midway is left out.
func dump(m *miniredis.Miniredis, seq uint64) (*snapshot, error) {
	snap := &snapshot{Format: snapshotFormat, Seq: seq, Time: time.Now().UnixMilli()}
	// Read through the DB, not m's own methods: each of those advances the
	// TTL clock, which sorts every key, and a dump reads every key and
	// hash field (a big catalog took hours).
	db := m.DB(0)
	for _, k := range db.Keys() {
		sk := snapKey{Key: bstr(k), Type: db.Type(k)}
		var vals []string
		var err error
		switch sk.Type {
		case "":
			continue
		case "string":
			var v string
			v, err = db.Get(k)
			vals = []string{v}
		case "hash":
			var fields []string
			fields, err = db.HKeys(k)
			for _, f := range fields {
				vals = append(vals, f, db.HGet(k, f))
				if ttl := db.HTTL(k, f); ttl > 0 {
					sk.FieldTTLs = append(sk.FieldTTLs, fieldTTL{Field: bstr(f), TTL: max(ttl.Milliseconds(), 1)})
				}
			}
		case "list":
			vals, err = db.List(k)
		case "set":
			vals, err = db.Members(k)
		case "zset":
			var scores map[string]float64
			scores, err = db.SortedSet(k)
			for _, member := range slices.Sorted(maps.Keys(scores)) {
				vals = append(vals, member, strconv.FormatFloat(scores[member], 'g', -1, 64))
			}
		case "stream":
			var entries []miniredis.StreamEntry
			entries, err = db.Stream(k)
			for _, e := range entries {
				vals = append(vals, e.ID, strconv.Itoa(len(e.Values)))
				vals = append(vals, e.Values...)
			}
			if err == nil && len(vals) == 0 {
				continue // trimmed empty: the next XADD makes it again
			}
		default:
			return nil, fmt.Errorf("catalog: snapshot: key %q is a %s, which the embedded store cannot persist", k, sk.Type)
		}
		if errors.Is(err, miniredis.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("catalog: snapshot: key %q: %w", k, err)
		}
		if ttl := db.TTL(k); ttl > 0 {
			sk.TTL = max(ttl.Milliseconds(), 1)
		}
		sk.Vals = make([]bstr, len(vals))
		for i, v := range vals {
			sk.Vals[i] = bstr(v)
		}
		snap.Keys = append(snap.Keys, sk)
	}
	return snap, nil
}

// restore loads snap into m, which must be empty.
func (snap *snapshot) restore(m *miniredis.Miniredis) error {
	for _, sk := range snap.Keys {
		if err := restoreKey(m, sk); err != nil {
			return fmt.Errorf("key %q: %w", sk.Key, err)
		}
	}
	return nil
}

func restoreKey(m *miniredis.Miniredis, sk snapKey) error {
	k := string(sk.Key)
	vals := make([]string, len(sk.Vals))
	for i, v := range sk.Vals {
		vals[i] = string(v)
	}
	var err error
	switch {
	case sk.Type == "string" && len(vals) == 1:
		err = m.Set(k, vals[0])
	case sk.Type == "hash" && len(vals) > 0 && len(vals)%2 == 0:
		m.HSet(k, vals...)
		for _, ft := range sk.FieldTTLs {
			m.HExpire(k, string(ft.Field), time.Duration(ft.TTL)*time.Millisecond)
		}
	case sk.Type == "list" && len(vals) > 0:
		_, err = m.Push(k, vals...)
	case sk.Type == "set" && len(vals) > 0:
		_, err = m.SetAdd(k, vals...)
	case sk.Type == "zset" && len(vals) > 0 && len(vals)%2 == 0:
		for i := 0; i < len(vals) && err == nil; i += 2 {
			var score float64
			if score, err = strconv.ParseFloat(vals[i+1], 64); err == nil {
				_, err = m.ZAdd(k, score, vals[i])
			}
		}
	case sk.Type == "stream" && len(vals) > 0:
		err = restoreStream(m, k, vals)
	default:
		return fmt.Errorf("bad %s entry with %d values", sk.Type, len(vals))
	}
	if err != nil {
		return err
	}
	if sk.TTL > 0 {
		m.SetTTL(k, time.Duration(sk.TTL)*time.Millisecond)
	}
	return nil
}

// restoreStream adds a stream's entries, as dump lists them, to m.
func restoreStream(m *miniredis.Miniredis, k string, vals []string) error {
	for len(vals) > 0 {
		if len(vals) < 2 {
			return fmt.Errorf("bad stream entry: %d values left", len(vals))
		}
		n, err := strconv.Atoi(vals[1])
		if err != nil || n < 2 || n%2 != 0 || len(vals) < 2+n {
			return fmt.Errorf("bad stream entry %q: %q values", vals[0], vals[1])
		}
		if _, err := m.XAdd(k, vals[0], vals[2:2+n]); err != nil {
			return fmt.Errorf("stream entry %q: %w", vals[0], err)
		}
		vals = vals[2+n:]
	}
	return nil
}

// readSnapshot reads path; a missing file is an empty snapshot.
func readSnapshot(path string) (*snapshot, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &snapshot{Format: snapshotFormat}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: read snapshot: %w", err)
	}
	var snap snapshot
	if len(data) == 0 || data[len(data)-1] != '\n' {
		err = errors.New("incomplete file")
	} else {
		err = decodeLine(data[:len(data)-1], &snap)
	}
	if err == nil && snap.Format != snapshotFormat {
		err = fmt.Errorf("unknown format %q", snap.Format)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: snapshot %s: %w", path, err)
	}
	return &snap, nil
}

// writeSnapshot replaces dir/snapshot with snap atomically.
func writeSnapshot(dir string, snap *snapshot) error {
	line, err := encodeLine(snap)
	if err != nil {
		return fmt.Errorf("catalog: encode snapshot: %w", err)
	}
	err = atomicfile.Write(filepath.Join(dir, "snapshot"), 0o600, func(w io.Writer) error {
		_, err := w.Write(line)
		return err
	})
	if err != nil {
		return fmt.Errorf("catalog: snapshot: %w", err)
	}
	return nil
}

// removeStaleSnapshots removes what a crash while writing a snapshot may
// have left: atomicfile's temporary files, and the one name versions
// before it used. The directory lock is held, so no writer is at work.
func removeStaleSnapshots(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, ".snapshot.*.tmp"))
	for _, name := range append(stale, filepath.Join(dir, "snapshot.tmp")) {
		_ = os.Remove(name)
	}
}
