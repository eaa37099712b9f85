package embedded_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

// The kill -9 test runs a child (this test binary again) that writes and
// prints "ok <i>" after each write returns; the parent kills it at some
// moment and checks that every write printed survived.
const crashEnv = "CATALOG_TEST_CRASH_DIR"

func TestEmbedded_KillNine(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir, os.Getenv(crashEnv+"_ROUND"))
		return
	}
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEmbedded_KillNine$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, fmt.Sprintf("%s_ROUND=%d", crashEnv, round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		killed := false
		n := 0
		for sc.Scan() {
			id, ok := strings.CutPrefix(sc.Text(), "ok ")
			if !ok {
				continue
			}
			acked[id] = true
			if n++; n == 25+10*round && !killed {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child ended before it was killed: %v", round, err)
		}
		t.Logf("round %d: %d writes acknowledged in total", round, len(acked))
	}

	s := mustOpenCatalog(t, dir)
	defer s.Close()
	ctx := context.Background()
	for id := range acked {
		if _, err := s.Find(ctx, recipes.Query{Category: "soups", RecipeID: id}); err != nil {
			t.Errorf("acknowledged write %s lost: %v", id, err)
		}
	}
}

func crashChild(dir, round string) {
	s, err := openCatalog(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	if round == "0" {
		if _, err := s.CreateCategory(ctx, category("soups")); err != nil {
			fmt.Fprintln(os.Stderr, "child write:", err)
			os.Exit(2)
		}
	}
	for i := 0; i < 100000; i++ {
		id := fmt.Sprintf("r-%s-%d", round, i)
		if _, err := s.CreateRecipe(ctx, recipe(id, "soups", "Recipe "+id)); err != nil {
			fmt.Fprintln(os.Stderr, "child write:", err)
			os.Exit(2)
		}
		// Publishing also publishes the category, the first time.
		if _, err := s.PublishRecipe(ctx, id); err != nil {
			fmt.Fprintln(os.Stderr, "child write:", err)
			os.Exit(2)
		}
		fmt.Printf("ok %s\n", id)
	}
	os.Exit(3) // never reached in practice: the parent kills us first
}
