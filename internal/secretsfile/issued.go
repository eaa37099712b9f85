package secretsfile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/recipesd/recipesd/internal/atomicfile"
)

// Issued is the CSV file of the secrets issued to new devices, "id,secret"
// lines under a header. The store hands it the secrets it issues before it
// stores their hashes, so it is written in full and synced each time, and
// a secret is never stored that is not in the file. Each write replaces
// the file atomically: a crash during a retry leaves the secrets of the
// attempt before it, which may be in use.
type Issued struct {
	path   string
	issued int // secrets in the file
}

// Create creates path, which must not exist, holding the CSV header. If
// path exists, the error matches [fs.ErrExist] and the file is left alone:
// secrets are never written over a file.
func Create(path string) (*Issued, error) {
	if err := atomicfile.Create(path, mode, writeCSV(nil)); err != nil {
		return nil, err
	}
	return &Issued{path: path}, nil
}

// Write replaces the file's content with secrets, by device id.
func (f *Issued) Write(secrets map[string]string) error {
	if err := replace(f.path, writeCSV(secrets)); err != nil {
		return err
	}
	f.issued = len(secrets)
	return nil
}

// writeCSV writes secrets, by id, as CSV with a header.
func writeCSV(secrets map[string]string) func(io.Writer) error {
	return func(f io.Writer) error {
		w := csv.NewWriter(f)
		_ = w.Write([]string{"id", "secret"})
		for _, id := range slices.Sorted(maps.Keys(secrets)) {
			_ = w.Write([]string{id, secrets[id]})
		}
		w.Flush()
		return w.Error()
	}
}

// Report tells w how many secrets the file holds after the store's write:
// those of its last attempt, which are exactly those it stored.
func (f *Issued) Report(w io.Writer) {
	if f.issued == 0 {
		fmt.Fprintf(w, "no new device needed a secret; %s holds only the CSV header\n", f.path)
		return
	}
	fmt.Fprintf(w, "secrets issued to new devices: %d, written to %s (mode 0600); provision them, then delete the file\n", f.issued, f.path)
}

// Finish settles the file after the store's write ended with err, and
// returns err. A failed write stored none of the secrets, so the file
// goes; unless err matches outcomeUnknown, the store cannot tell whether
// its write happened: then the secrets may be in use, and the file stays
// and Finish says so on w.
func (f *Issued) Finish(err, outcomeUnknown error, w io.Writer) error {
	switch {
	case err == nil:
	case errors.Is(err, outcomeUnknown) && f.issued > 0:
		fmt.Fprintf(w, "recipesd: kept %s: the store may have registered the %d new devices whose secrets it holds; "+
			"check with \"recipesd device list\" before seeding again\n", f.path, f.issued)
	default:
		_ = os.Remove(f.path)
	}
	return err
}
