package scb

import (
	"fmt"
	"strings"
)

// A Renderer produces one driver family's configuration files from the
// neutral client configuration.
//
// Name returns the driver family, one of Drivers. Render returns files
// whose paths lie under DriverConfigDir(Name()) or "examples/<Name>/"; Build
// rejects anything else. Renderers never see private keys or passwords:
// they refer to the bundle's files by path (ClientConfig.TLS) and to the
// store passwords through config.json.
type Renderer interface {
	Name() string
	Render(cfg *ClientConfig) ([]File, error)
}

func checkRendered(r Renderer, files []File) error {
	name := r.Name()
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return fmt.Errorf("renderer %s: %w", name, err)
		}
		if !strings.HasPrefix(f.Path, DriverConfigDir(name)) && !strings.HasPrefix(f.Path, "examples/"+name+"/") {
			return fmt.Errorf("renderer %s: file %s is outside its directories", name, f.Path)
		}
	}
	return nil
}
