package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"scb": func() {
			os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
		},
	})
}

// TestScripts runs the CLI scenarios in testdata/script. Each script runs in
// a fresh directory with SCB_HOME pointing into it.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("SCB_HOME", e.WorkDir+"/home")
			e.Setenv("HOME", e.WorkDir+"/userhome")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// perm FILE MODE: assert the permission bits of FILE (octal).
			"perm": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: perm FILE MODE")
				}
				fi, err := os.Stat(ts.MkAbs(args[0]))
				ts.Check(err)
				got := fi.Mode().Perm()
				var want os.FileMode
				_, err = fmtSscanOctal(args[1], &want)
				ts.Check(err)
				if (got == want) == neg {
					ts.Fatalf("%s has mode %#o, want %s%#o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
				}
			},
			// nofiles DIR: assert DIR holds no entries (or does not exist).
			"nofiles": func(ts *testscript.TestScript, neg bool, args []string) {
				entries, err := os.ReadDir(ts.MkAbs(args[0]))
				if err != nil && !os.IsNotExist(err) {
					ts.Fatalf("%v", err)
				}
				if (len(entries) == 0) == neg {
					names := []string{}
					for _, e := range entries {
						names = append(names, e.Name())
					}
					ts.Fatalf("%s holds %v", args[0], names)
				}
			},
		},
	})
}
