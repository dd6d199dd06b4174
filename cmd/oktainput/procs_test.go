package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProcs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     string
		current int
		want    int
	}{
		{"one core gets a second P", "", 1, 2},
		{"two cores are left alone", "", 2, 0},
		{"many cores are left alone", "", 16, 0},
		{"GOMAXPROCS set by the admin wins", "1", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "GOMAXPROCS" {
					return tc.env
				}
				return ""
			}
			assert.Equal(t, tc.want, procs(getenv, tc.current))
		})
	}
}
