package main

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const exampleOrders = "../../examples/sportshop/" + demoOrdersFile

// TestStartDemoOrders: the demo serves the orders file next to its
// configuration on loopback until stopped; a directory without one gets no
// order API.
func TestStartDemoOrders(t *testing.T) {
	none, err := startDemoOrders(t.TempDir())
	if none != nil || err != nil {
		t.Fatalf("without an orders file: %v, %v; want nothing", none, err)
	}
	d, err := startDemoOrders(filepath.Dir(exampleOrders))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.URL, "http://127.0.0.1:") || len(d.IDs) == 0 || !slices.IsSorted(d.IDs) {
		t.Fatalf("url %q, ids %v", d.URL, d.IDs)
	}
	resp, err := http.Get(d.URL + "/orders/" + d.IDs[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET %s: %d", d.IDs[0], resp.StatusCode)
	}
	d.Stop()
	if resp, err := http.Get(d.URL + "/orders/" + d.IDs[0]); err == nil {
		resp.Body.Close()
		t.Error("the order API still answers after stop")
	}
}
