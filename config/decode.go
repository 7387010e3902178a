package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder turns a YAML node tree into a typed value field by field, so that
// every problem (unknown key, wrong type, unset environment variable) is
// reported with its path and decoding goes on to find the next one.
type decoder struct {
	lookupEnv func(string) (string, bool)
	problems  *Problems
	envRef    *regexp.Regexp // ${VAR} and ${VAR:-default}
}

func newDecoder(lookupEnv func(string) (string, bool), problems *Problems) *decoder {
	return &decoder{
		lookupEnv: lookupEnv,
		problems:  problems,
		envRef:    regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`),
	}
}

// expand replaces environment references in one scalar. Expansion happens per
// scalar after the YAML structure is parsed, so a secret containing YAML
// syntax (": ", "#", quotes) can never change the shape of the file.
func (d *decoder) expand(path, s string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return d.envRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := d.envRef.FindStringSubmatch(ref)
		name, hasDefault, def := m[1], m[2] != "", m[3]
		v, ok := d.lookupEnv(name)
		switch {
		case ok && (v != "" || !hasDefault):
			return v
		case hasDefault:
			return def
		}
		d.problems.add(path, "environment variable %s is not set (use ${%s:-default} for an optional value)", name, name)
		return ""
	})
}

func (d *decoder) decode(node *yaml.Node, v reflect.Value, path string) {
	if node.Kind == yaml.DocumentNode {
		if len(node.Content) == 0 {
			return
		}
		node = node.Content[0]
	}
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	if node.Tag == "!!null" {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(node, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(node, v, path)
	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			d.problems.add(path, "expected a list (line %d)", node.Line)
			return
		}
		s := reflect.MakeSlice(v.Type(), len(node.Content), len(node.Content))
		for i, item := range node.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			d.problems.add(path, "expected a mapping (line %d)", node.Line)
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(node.Content)/2)
		for i := 0; i+1 < len(node.Content); i += 2 {
			key := node.Content[i].Value
			val := reflect.New(v.Type().Elem()).Elem()
			d.decode(node.Content[i+1], val, join(path, key))
			m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), val)
		}
		v.Set(m)
	default:
		d.decodeScalar(node, v, path)
	}
}

func (d *decoder) decodeStruct(node *yaml.Node, v reflect.Value, path string) {
	if node.Kind != yaml.MappingNode {
		d.problems.add(path, "expected a mapping (line %d)", node.Line)
		return
	}
	fields := map[string]int{}
	for i := 0; i < v.NumField(); i++ {
		tag := strings.Split(v.Type().Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			fields[tag] = i
		}
	}
	// Merge keys (<<: *defaults) apply first, so that the mapping's own
	// keys override what they bring in.
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Tag != "!!merge" {
			continue
		}
		src := node.Content[i+1]
		if src.Kind == yaml.AliasNode {
			src = src.Alias
		}
		if src.Kind == yaml.SequenceNode {
			for _, item := range src.Content {
				d.decode(item, v, path)
			}
			continue
		}
		d.decode(src, v, path)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Tag == "!!merge" {
			continue
		}
		key := node.Content[i].Value
		p := join(path, key)
		if strings.HasPrefix(key, "x-") {
			continue // a place for anchors shared by several entries
		}
		idx, ok := fields[key]
		if !ok {
			d.problems.add(p, "unknown field (line %d)", node.Content[i].Line)
			continue
		}
		if seen[key] {
			d.problems.add(p, "given twice (line %d)", node.Content[i].Line)
			continue
		}
		seen[key] = true
		d.decode(node.Content[i+1], v.Field(idx), p)
	}
}

func (d *decoder) decodeScalar(node *yaml.Node, v reflect.Value, path string) {
	if node.Kind != yaml.ScalarNode {
		d.problems.add(path, "expected a single value (line %d)", node.Line)
		return
	}
	n := *node
	if strings.Contains(n.Value, "${") {
		n.Value = d.expand(path, n.Value)
		// An expanded value is data, not YAML: the target type decides how
		// to read it, not the tag the reference text happened to get.
		n.Tag = ""
		n.Style = 0
	}
	if v.Kind() == reflect.String {
		// Ids such as phone_number_id: 1234567 are text even when they
		// look like numbers.
		v.SetString(n.Value)
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		d.problems.add(path, "expected %s, got %q (line %d)", kindName(v), node.Value, node.Line)
	}
}

func kindName(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "text"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
