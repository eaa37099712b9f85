// Package secretsfile writes the files in which recipesd hands the secrets
// it generates to a person. A secret in a log is as good as published
// (logs are copied, shipped and kept), so it goes to a file instead:
// readable by its owner only from the first byte (mode 0600) and replaced
// as a whole, by [atomicfile.Write], so that it is never half-written.
//
// There are two: the first start's file in the data directory, one
// "key=value" a line ([Save]), and the CSV of the secrets "recipesd seed
// -secrets-out" issues to new devices ([Issued]).
package secretsfile

import (
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/recipesd/recipesd/internal/atomicfile"
)

// mode is the mode of every secrets file: its owner's eyes only.
const mode fs.FileMode = 0o600

// replace replaces path, as a whole, with what write writes.
func replace(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, mode, write)
}

// plainWord matches what a POSIX shell takes as one word unquoted.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=-]+$`)

// shellWord quotes s for a POSIX shell if it needs quoting.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
