//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/seed"
)

// childArgs, when set in the environment, makes the test binary run
// recipesd with these arguments (separated by \x1f) and exit, so that a
// benchmark can measure a seed as a process of its own.
const childArgs = "RECIPESD_TEST_CHILD_ARGS"

func init() {
	if args := os.Getenv(childArgs); args != "" {
		code := run(context.Background(), strings.Split(args, "\x1f"), os.Getenv, os.Stdout, os.Stderr)
		// The peak resident memory of this process since it started: the
		// rusage of a child would count its parent's before the exec.
		status, _ := os.ReadFile("/proc/self/status")
		for line := range strings.Lines(string(status)) {
			if strings.HasPrefix(line, "VmHWM:") {
				fmt.Fprint(os.Stderr, line)
			}
		}
		os.Exit(code)
	}
}

// BenchmarkSeedFile seeds a catalog file of BENCH_RECIPES (default
// 100,000) synthetic recipes into the real Redis at REDIS_URL, each time
// into an empty namespace, running "recipesd seed" as a process of its own
// and reporting its peak resident memory. Then it seeds the same file
// again (nothing changes) and a version with every title changed.
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test ./cmd/recipesd -run '^$' -bench SeedFile -benchtime 3x
func BenchmarkSeedFile(b *testing.B) { benchSeedFile(b) }

// BenchmarkSeedFileTranslated is [BenchmarkSeedFile] with every category
// and recipe translated to two languages (issue 13: under 15 s for
// 100,000 recipes).
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test ./cmd/recipesd -run '^$' -bench SeedFileTranslated -benchtime 3x
func BenchmarkSeedFileTranslated(b *testing.B) { benchSeedFile(b, "de", "fr") }

func benchSeedFile(b *testing.B, langs ...string) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		b.Skip("set REDIS_URL to a real Redis to run this benchmark")
	}
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_RECIPES")); err == nil {
		n = v
	}
	dir := b.TempDir()
	c, err := seed.Synthetic(n, 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Translate(langs...); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(dir, "catalog.json")
	writeWholeCatalog(b, file, c)
	for i := range c.Recipes {
		c.Recipes[i].Title = "New " + c.Recipes[i].Title[:min(len(c.Recipes[i].Title), 100)]
	}
	changed := filepath.Join(dir, "changed.json")
	writeWholeCatalog(b, changed, c)
	info, _ := os.Stat(file)
	b.Logf("%d recipes, %.1f MB of JSON", n, float64(info.Size())/1e6)

	opt, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()

	for _, step := range []string{"Fresh", "Unchanged", "Changed"} {
		b.Run(step, func(b *testing.B) {
			var peak int64
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				prefix := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
				args := []string{"seed", "-redis-url", url, "-key-prefix", prefix, "-progress", "off"}
				if step != "Fresh" {
					seedChild(b, append(args, file))
				}
				input := file
				if step == "Changed" {
					input = changed
				}
				b.StartTimer()
				rss := seedChild(b, append(args, input))
				b.StopTimer()
				peak = max(peak, rss)
				dropPrefix(b, rdb, prefix)
				b.StartTimer()
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "recipes/s")
		})
	}
}

// seedChild runs recipesd with args in a child process and returns its
// peak resident memory in bytes.
func seedChild(tb testing.TB, args []string) int64 {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\x1f"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("recipesd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	_, hwm, ok := strings.Cut(string(out), "VmHWM:")
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(hwm), "kB")), 10, 64)
	if !ok || err != nil {
		tb.Fatalf("no peak memory in the output of recipesd %s:\n%s", strings.Join(args, " "), out)
	}
	return kb << 10
}

func dropPrefix(tb testing.TB, rdb *redis.Client, prefix string) {
	tb.Helper()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, "{"+prefix+"}:*", 5000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 5000 {
			rdb.Unlink(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Unlink(ctx, keys...)
	}
	if err := iter.Err(); err != nil {
		tb.Fatal(err)
	}
}

// writeWholeCatalog writes c, its languages included, with
// seed.WriteCatalog.
func writeWholeCatalog(tb testing.TB, path string, c seed.Catalog) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := seed.WriteCatalog(f, seed.JSON, c); err != nil {
		tb.Fatal(err)
	}
}
