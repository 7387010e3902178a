package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/evals/orderapi"
)

// The demo's order API. The example bot's order_status action calls a
// shop's order API; the demo has no shop, so it serves the fictional
// orders kept next to its configuration (orders.json) itself, on a
// loopback port of its own (package orderapi, which eval runs share): the
// product's web server keeps only the product's routes, and the action
// reaches the orders exactly as it would reach a real API.

const (
	// demoOrdersFile holds the fictional orders, next to the configuration.
	demoOrdersFile = orderapi.File
	// orderAPIEnv is the variable the example configuration reads the
	// order API's base URL from; the demo sets it unless it is set.
	orderAPIEnv = orderapi.EnvVar
)

// startDemoOrders serves the orders file in dir on a loopback port. It
// returns nil, and no error, when dir has no orders file: a configuration
// of one's own needs none.
func startDemoOrders(dir string) (*orderapi.Server, error) {
	path := filepath.Join(dir, demoOrdersFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return orderapi.Start(path, time.Now)
}

// withDemoOrders starts the demo's order API for the configuration in dir
// (when dir has an orders file and ORDER_API_URL is not set) and returns
// the environment that points the configuration at it; orders is nil when
// none was started. The caller stops it.
func withDemoOrders(e *env, dir string) (lookup config.Env, orders *orderapi.Server, err error) {
	if _, set := e.lookupEnv(orderAPIEnv); set {
		return e.lookupEnv, nil, nil
	}
	if orders, err = startDemoOrders(dir); err != nil || orders == nil {
		return e.lookupEnv, nil, err
	}
	return func(name string) (string, bool) {
		if name == orderAPIEnv {
			return orders.URL, true
		}
		return e.lookupEnv(name)
	}, orders, nil
}
