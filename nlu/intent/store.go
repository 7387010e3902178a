package intent

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/batonhq/baton"
)

// formatVersion changes whenever features or training change, so that an
// old model file is retrained rather than misread.
const formatVersion = 1

// ModelFile is the name TrainOrLoad keeps the model under in its directory.
const ModelFile = "intent-model.gob"

// DataHash is the SHA-256 of the training examples and of every option
// that changes the model: the key under which a trained model is reused.
func DataHash(examples []Example, opt Options) string {
	opt = opt.withDefaults()
	h := sha256.New()
	fmt.Fprintf(h, "v%d|%d|%g|%g|%d|%d|%d|%q|%g|%g\n", formatVersion, opt.Epochs, opt.LearningRate, opt.L2,
		opt.MinDF, opt.Seed, opt.Folds, opt.OOSLabel, opt.OOSThreshold, opt.MaxAccuracyLoss)
	for _, ex := range examples {
		fmt.Fprintf(h, "%d:%s\x00%d:%s\n", len(ex.Intent), ex.Intent, len(ex.Text), ex.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type fileModel struct {
	Version     int
	DataHash    string
	Intents     []string
	OOS         int
	Keys        []uint64 // feature hash of each column, in column order
	IDF         []float32
	W           []float32
	B           []float32
	Temperature float64
	Threshold   float64
	Stats       Stats
}

// Save writes the model.
func (m *Model) Save(w io.Writer) error {
	keys := make([]uint64, len(m.vec.IDF))
	for h, col := range m.vec.Columns {
		keys[col] = h
	}
	f := fileModel{
		Version: formatVersion, DataHash: m.dataHash, Intents: m.intents, OOS: m.oos,
		Keys: keys, IDF: m.vec.IDF, W: m.w, B: m.b,
		Temperature: m.temperature, Threshold: m.threshold, Stats: m.stats,
	}
	bw := bufio.NewWriter(w)
	if err := gob.NewEncoder(bw).Encode(&f); err != nil {
		return fmt.Errorf("encode intent model: %w", err)
	}
	return bw.Flush()
}

// Load reads a model written by Save.
func Load(r io.Reader) (*Model, error) {
	var f fileModel
	if err := gob.NewDecoder(bufio.NewReader(r)).Decode(&f); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "intent model: cannot decode: %w", err)
	}
	if f.Version != formatVersion {
		return nil, baton.Errorf(baton.EINVALID, "intent model: format %d, want %d", f.Version, formatVersion)
	}
	k := len(f.Intents)
	if k < 2 || len(f.B) != k || len(f.IDF) != len(f.Keys) || len(f.W) != len(f.Keys)*k || f.OOS >= k || f.Temperature <= 0 {
		return nil, baton.Errorf(baton.EINVALID, "intent model: inconsistent sizes (%d intents, %d features, %d weights)", k, len(f.Keys), len(f.W))
	}
	v := &vectorizer{Columns: make(map[uint64]int32, len(f.Keys)), IDF: f.IDF}
	for i, h := range f.Keys {
		v.Columns[h] = int32(i)
	}
	return &Model{
		intents: f.Intents, oos: f.OOS, vec: v, w: f.W, b: f.B,
		temperature: f.Temperature, threshold: f.Threshold, dataHash: f.DataHash, stats: f.Stats,
	}, nil
}

// TrainOrLoad returns the model for examples, reusing the one stored in dir
// when it was trained from the same data and options, and training (then
// storing) a new one otherwise. trained reports which happened.
func TrainOrLoad(ctx context.Context, dir string, examples []Example, opt Options) (m *Model, trained bool, err error) {
	want := DataHash(examples, opt)
	path := filepath.Join(dir, ModelFile)
	if f, err := os.Open(path); err == nil {
		m, lerr := Load(f)
		f.Close()
		if lerr == nil && m.dataHash == want {
			return m, false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, baton.Errorf(baton.EINTERNAL, "intent model: open %s: %w", path, err)
	}
	m, err = Train(ctx, examples, opt)
	if err != nil {
		return nil, false, err
	}
	if err := writeAtomic(dir, path, m); err != nil {
		return nil, false, err
	}
	return m, true, nil
}

// writeAtomic writes to a temporary file and renames it, so that a crash or
// a concurrent start never leaves half a model behind.
func writeAtomic(dir, path string, m *Model) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return baton.Errorf(baton.EINTERNAL, "intent model: create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".intent-model-*")
	if err != nil {
		return baton.Errorf(baton.EINTERNAL, "intent model: temp file in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	if err := m.Save(tmp); err != nil {
		tmp.Close()
		return baton.Errorf(baton.EINTERNAL, "intent model: write: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return baton.Errorf(baton.EINTERNAL, "intent model: write: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return baton.Errorf(baton.EINTERNAL, "intent model: rename: %w", err)
	}
	return nil
}
