package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"sort"
	"strings"
)

// graphBlock names the block of docs/architecture.md that holds the import
// graph; it is written from the code, not from a scene.
const graphBlock = "import-graph"

// importGraph returns the Mermaid graph of the module's own packages and
// their direct imports of each other (test files left out), as `go list`
// reports them for the module in dir. Third-party imports are left out:
// the graph shows the layering, go.mod shows the dependencies.
func importGraph(dir string) (string, error) {
	c := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...")
	c.Dir = dir
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("go list: %w: %s", err, stderr.String())
	}
	module, err := modulePath(dir)
	if err != nil {
		return "", err
	}
	var edges []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from := strings.TrimPrefix(fields[0], module+"/")
		for _, imp := range fields[1:] {
			if to, ok := strings.CutPrefix(imp, module+"/"); ok {
				edges = append(edges, fmt.Sprintf("    %s --> %s", node(from), node(to)))
			}
		}
	}
	sort.Strings(edges)
	return "```mermaid\ngraph LR\n" + strings.Join(edges, "\n") + "\n```\n", nil
}

// node is a package as a Mermaid node: an id without slashes, labelled
// with the package's path in the module.
func node(pkg string) string {
	return strings.NewReplacer("/", "_", "-", "_").Replace(pkg) + `["` + pkg + `"]`
}

// modulePath is the module's path, from go list.
func modulePath(dir string) (string, error) {
	c := exec.Command("go", "list", "-m")
	c.Dir = dir
	out, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
