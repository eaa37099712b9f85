package fleet

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
)

// ReadCredentials reads the devices of a credentials file: CSV with the
// header "id,secret" and one device a line, the format of the file
// "recipesd seed -secrets-out" writes.
func ReadCredentials(path string) ([]Device, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	defer func() { _ = f.Close() }()
	return parseCredentials(f, path)
}

func parseCredentials(r io.Reader, name string) ([]Device, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	cr.ReuseRecord = true
	var devs []Device
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("credentials %s: %w (want id,secret lines, as \"recipesd seed -secrets-out\" writes)", name, err)
		}
		if line == 1 {
			if rec[0] != "id" || rec[1] != "secret" {
				return nil, fmt.Errorf("credentials %s:1: header %q,%q: want \"id,secret\", as \"recipesd seed -secrets-out\" writes", name, rec[0], rec[1])
			}
			continue
		}
		switch {
		case rec[0] == "":
			return nil, fmt.Errorf("credentials %s:%d: empty device id", name, line)
		case rec[1] == "":
			return nil, fmt.Errorf("credentials %s:%d: device %s: empty secret", name, line, rec[0])
		case seen[rec[0]] > 0:
			return nil, fmt.Errorf("credentials %s:%d: device %s: already on line %d", name, line, rec[0], seen[rec[0]])
		}
		seen[rec[0]] = line
		devs = append(devs, Device{ID: rec[0], Secret: rec[1]})
	}
	if len(devs) == 0 {
		return nil, fmt.Errorf("credentials %s: no devices", name)
	}
	return devs, nil
}
