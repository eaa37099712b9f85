package seed

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// extensions are the file name extensions of catalog files: JSON, and YAML
// under either of its names. Directories are searched for these.
var extensions = []string{".json", ".yaml", ".yml"}

// ReadOptions tunes [ReadFiles]; the zero value works.
type ReadOptions struct {
	// Known reports whether a category exists outside the files, in the
	// store, so that recipes may use it. Nil means the files must hold
	// every category their recipes use.
	Known func(slug string) bool

	// Progress, if set, is called now and then with the bytes of all
	// files read so far and their total.
	Progress func(done, total int64)
}

// ReadFiles parses the catalog files at paths, each a file or a directory
// searched (recursively, skipping names that start with a dot) for files
// with one of the [extensions], and merges them into one catalog. It reads
// every file in full before it returns, and reports every problem of every
// file, including paths that do not exist or cannot be read, in one
// *ProblemsError; the catalog holds every record that could be read. Files
// are read one at a time, so that memory holds one file's bytes at most.
func ReadFiles(paths []string, opts ReadOptions) (Catalog, error) {
	files, problems := catalogFiles(paths)
	var total, done int64
	for _, f := range files {
		total += f.size
	}
	progress := func(n int64) {
		if opts.Progress != nil {
			opts.Progress(n, total)
		}
	}
	progress(0)
	parts := make([]Catalog, 0, len(files))
	for _, f := range files {
		at := done
		part, err := parseFile(f.path, func(off int) { progress(at + int64(off)) })
		problems = appendProblems(problems, err)
		parts = append(parts, part)
		done += f.size
		progress(done)
	}
	c, err := merge(opts.Known, parts...)
	problems = appendProblems(problems, err)
	return c, newProblemsError(problems)
}

// parseFile parses the file at path in the format its extension names.
// JSON is read as it is decoded, never whole: a catalog file may be far
// bigger than the catalog's memory.
func parseFile(path string, progress func(off int)) (Catalog, error) {
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Catalog{}, &ProblemsError{Problems: []Problem{pathProblem(path, err)}}
		}
		return ParseYAML(path, data)
	}
	f, err := os.Open(path)
	if err != nil {
		return Catalog{}, &ProblemsError{Problems: []Problem{pathProblem(path, err)}}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Catalog{}, &ProblemsError{Problems: []Problem{pathProblem(path, err)}}
	}
	t := newFileText(f, info.Size())
	c, perr := parseText(path, t, progress)
	if t.err != nil {
		return c, &ProblemsError{Problems: append(appendProblems(nil, perr), pathProblem(path, t.err))}
	}
	return c, perr
}

type catalogFile struct {
	path string
	size int64
}

// catalogFiles lists the files at paths, without duplicates, and the
// problems of paths that are not catalog files or directories holding any.
func catalogFiles(paths []string) ([]catalogFile, []Problem) {
	var files []catalogFile
	var problems []Problem
	seen := make(map[string]bool)
	add := func(path string, size int64) {
		if clean := filepath.Clean(path); !seen[clean] {
			seen[clean] = true
			files = append(files, catalogFile{path, size})
		}
	}
	for _, path := range paths {
		info, err := os.Stat(path)
		switch {
		case err != nil:
			problems = append(problems, pathProblem(path, err))
		case !info.IsDir() && !isCatalogFile(path):
			problems = append(problems, Problem{File: path, Kind: kindFile, Message: "is not a catalog file; want a name ending in " + strings.Join(extensions, ", ")})
		case !info.IsDir():
			add(path, info.Size())
		default:
			n := len(files)
			err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					problems = append(problems, pathProblem(p, err))
					return nil
				}
				if p != path && strings.HasPrefix(d.Name(), ".") {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if d.IsDir() || !isCatalogFile(p) {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					problems = append(problems, pathProblem(p, err))
					return nil
				}
				add(p, info.Size())
				return nil
			})
			if err != nil {
				problems = append(problems, pathProblem(path, err))
			}
			if len(files) == n {
				problems = append(problems, Problem{File: path, Kind: kindFile, Message: "is a directory without catalog files (" + strings.Join(extensions, ", ") + ")"})
			}
		}
	}
	return files, problems
}

func isCatalogFile(path string) bool {
	return slices.Contains(extensions, strings.ToLower(filepath.Ext(path)))
}

// pathProblem reports a file that cannot be read, without repeating its
// path in the message.
func pathProblem(path string, err error) Problem {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return Problem{File: path, Kind: kindFile, Message: "cannot be read: " + err.Error()}
}
