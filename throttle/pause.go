package throttle

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// PauseFile holds while a file exists at path: `touch` it to pause the
// backfill between batches, remove it to resume.
func PauseFile(path string) Signal { return pauseFile(path) }

type pauseFile string

func (p pauseFile) Name() string { return "pause-file" }

func (p pauseFile) Read(context.Context) (Reading, error) {
	_, err := os.Stat(string(p))
	switch {
	case err == nil:
		return Reading{Signal: p.Name(), Hold: true, Value: 1, Reason: "pause file " + string(p) + " exists"}, nil
	case errors.Is(err, fs.ErrNotExist):
		return Reading{Signal: p.Name()}, nil
	}
	return Reading{}, fmt.Errorf("check pause file: %w", err)
}
