package evals

import (
	"context"
	"encoding/json"
	"testing"
)

func TestRunDebug(t *testing.T) {
	s, err := LoadSuite("testdata/suite")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), s, Options{Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	t.Logf("%s", b)
}
