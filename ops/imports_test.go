package ops

import (
	"os/exec"
	"strings"
	"testing"
)

// ops and tui are client-side: they talk to servers over the wire only.
func TestImportDirection(t *testing.T) {
	for pkg, banned := range map[string][]string{
		"github.com/fluidb/fluidb/ops": {"github.com/fluidb/fluidb/server", "github.com/fluidb/fluidb/tui"},
		"github.com/fluidb/fluidb/tui": {"github.com/fluidb/fluidb/server"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for dep := range strings.Lines(string(out)) {
			dep = strings.TrimSpace(dep)
			for _, b := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
