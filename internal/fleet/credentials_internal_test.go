package fleet

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Device
		wantErr  string
	}{
		{name: "OK", in: "id,secret\noven-1,a\noven-2,\"b,\"\"c\"\n", want: []Device{{"oven-1", "a"}, {"oven-2", `b,"c`}}},
		{name: "ErrHeader", in: "device,key\noven-1,a\n", wantErr: `credentials f.csv:1: header "device","key": want "id,secret"`},
		{name: "ErrEmpty", in: "id,secret\n", wantErr: "credentials f.csv: no devices"},
		{name: "ErrNoSecret", in: "id,secret\noven-1,a\noven-2,\n", wantErr: "credentials f.csv:3: device oven-2: empty secret"},
		{name: "ErrNoID", in: "id,secret\n,a\n", wantErr: "credentials f.csv:2: empty device id"},
		{name: "ErrDuplicate", in: "id,secret\noven-1,a\noven-2,b\noven-1,c\n", wantErr: "credentials f.csv:4: device oven-1: already on line 2"},
		{name: "ErrFields", in: "id,secret\noven-1,a,extra\n", wantErr: "credentials f.csv: record on line 2: wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCredentials(strings.NewReader(tt.in), "f.csv")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
		})
	}
}
