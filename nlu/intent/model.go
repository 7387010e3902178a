// Package intent is the offline intent classifier: a multinomial logistic
// regression over word, word-bigram and character n-gram TF-IDF features,
// trained with seeded SGD (so the same data always gives the same model),
// with a softmax temperature fitted on held-out examples and an
// out-of-scope threshold chosen on them.
package intent

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton"
)

// Example is one labelled training text.
type Example struct {
	Text   string
	Intent string
}

// Options tune training. The zero value is the product's default.
type Options struct {
	Epochs       int     // SGD passes (default 8)
	LearningRate float64 // initial step (default 5.0)
	L2           float64 // weight decay per example (default 1e-6)
	MinDF        int     // a feature must appear in this many texts (default 1)
	Seed         uint64  // shuffling seed (default 1)
	// Folds is the number of cross-validation folds whose out-of-fold
	// predictions calibrate the confidence and choose the threshold
	// (default 4). Intents with fewer examples than folds always train.
	Folds int
	// OOSLabel marks examples of "none of the intents" (default "oos").
	// They train a class of their own and help choose the threshold; the
	// classifier never returns them as an intent.
	OOSLabel string
	// OOSThreshold, when set, overrides the threshold chosen on held-out
	// data: a message whose calibrated confidence is below it is out of
	// scope.
	OOSThreshold float64
	// MaxAccuracyLoss is what the threshold may cost: it is the highest
	// one at which out-of-fold in-scope accuracy stays within this much of
	// its value with no threshold. The default is 0.015 when the data has
	// out-of-scope examples (which show what the threshold catches) and
	// 0.005 when it has none (nothing shows the threshold earns its cost,
	// so it only guards against the clearly unfamiliar).
	MaxAccuracyLoss float64
	// Progress, when set, is called after each training epoch with the
	// epochs done and the total (every cross-validation fold and the final
	// fit), one call at a time. It does not change the model.
	Progress func(stage string, done, total int)
}

func (o Options) withDefaults() Options {
	if o.Epochs <= 0 {
		o.Epochs = 8
	}
	if o.LearningRate <= 0 {
		o.LearningRate = 5.0
	}
	if o.L2 < 0 {
		o.L2 = 0
	} else if o.L2 == 0 {
		o.L2 = 1e-6
	}
	if o.MinDF <= 0 {
		o.MinDF = 1
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Folds == 0 {
		o.Folds = 4
	}
	if o.OOSLabel == "" {
		o.OOSLabel = "oos"
	}
	if o.MaxAccuracyLoss < 0 || o.MaxAccuracyLoss >= 1 {
		o.MaxAccuracyLoss = 0
	}
	return o
}

// Stats describe how a model was trained and how it did on its own
// held-out split.
type Stats struct {
	Examples         int           `json:"examples"`
	HeldOut          int           `json:"held_out"`
	Features         int           `json:"features"`
	HeldOutAccuracy  float64       `json:"held_out_accuracy"` // before the threshold
	HeldOutOOSRecall float64       `json:"held_out_oos_recall,omitempty"`
	ThresholdSource  string        `json:"threshold_source"` // "oos-examples", "keep-share", "fixed"
	TrainTime        time.Duration `json:"train_time"`
}

// Model is a trained classifier; it is safe for concurrent use.
type Model struct {
	intents     []string // class names; the OOS class, if any, among them
	oos         int      // index of the OOS class or -1
	vec         *vectorizer
	w           []float32 // feature-major: w[col*K+k]
	b           []float32
	temperature float64
	threshold   float64
	dataHash    string
	stats       Stats
}

// Scored is one intent with its calibrated probability.
type Scored struct {
	Intent     string  `json:"intent"`
	Confidence float64 `json:"confidence"`
}

// Prediction is the classifier's answer for one message.
type Prediction struct {
	Intent     string   `json:"intent"` // "" when out of scope
	Confidence float64  `json:"confidence"`
	OutOfScope bool     `json:"out_of_scope"`
	Top        []Scored `json:"top"` // best first, at most three, never the OOS class
}

// Intents returns the intent names the model knows (without the OOS class).
func (m *Model) Intents() []string {
	out := make([]string, 0, len(m.intents))
	for i, n := range m.intents {
		if i != m.oos {
			out = append(out, n)
		}
	}
	return out
}

// Threshold is the out-of-scope confidence threshold in use.
func (m *Model) Threshold() float64 { return m.threshold }

// SetThreshold overrides the out-of-scope threshold (e.g. from config).
func (m *Model) SetThreshold(t float64) { m.threshold = t }

// Temperature is the fitted softmax temperature.
func (m *Model) Temperature() float64 { return m.temperature }

// DataHash is the SHA-256 of the training data the model came from.
func (m *Model) DataHash() string { return m.dataHash }

// Stats returns what training measured.
func (m *Model) Stats() Stats { return m.stats }

// Classify predicts the intent of text.
func (m *Model) Classify(text string) Prediction {
	probs := m.probs(text)
	k := len(m.intents)
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	var p Prediction
	for _, i := range order {
		if i == m.oos {
			continue
		}
		if len(p.Top) < 3 {
			p.Top = append(p.Top, Scored{Intent: m.intents[i], Confidence: probs[i]})
		}
	}
	best := order[0]
	if best == m.oos {
		p.OutOfScope = true
		p.Confidence = probs[best]
		return p
	}
	p.Intent = m.intents[best]
	p.Confidence = probs[best]
	if p.Confidence < m.threshold {
		p.OutOfScope = true
		p.Intent = ""
	}
	return p
}

func (m *Model) probs(text string) []float64 {
	logits := m.logits(m.vec.vector(text))
	return softmax(logits, m.temperature)
}

func (m *Model) logits(x []feature) []float64 {
	k := len(m.intents)
	out := make([]float64, k)
	for i := range out {
		out[i] = float64(m.b[i])
	}
	for _, f := range x {
		row := m.w[int(f.hash)*k : int(f.hash)*k+k]
		for i, w := range row {
			out[i] += float64(w * f.value)
		}
	}
	return out
}

func softmax(logits []float64, t float64) []float64 {
	out := make([]float64, len(logits))
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = max(mx, l)
	}
	var sum float64
	for i, l := range logits {
		out[i] = math.Exp((l - mx) / t)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// Train builds a model from examples: out-of-fold predictions of a
// stratified cross-validation fit the temperature and choose the
// out-of-scope threshold, then the model is trained on everything.
func Train(ctx context.Context, examples []Example, opt Options) (*Model, error) {
	start := time.Now()
	opt = opt.withDefaults()
	if err := validate(examples, opt); err != nil {
		return nil, err
	}
	classes := classesOf(examples)
	oos := -1
	for i, c := range classes {
		if c == opt.OOSLabel {
			oos = i
		}
	}
	temperature, threshold := 1.0, 0.0
	stats := Stats{Examples: len(examples)}
	// The vocabulary and IDF come from all texts (no labels are read), so
	// every text is featurised once for the folds and the final fit.
	texts := make([]string, len(examples))
	y := make([]int, len(examples))
	classIdx := map[string]int{}
	for i, c := range classes {
		classIdx[c] = i
	}
	for i, ex := range examples {
		texts[i] = ex.Text
		y[i] = classIdx[ex.Intent]
	}
	vec := fitVectorizer(texts, opt.MinDF)
	xs := make([][]feature, len(texts))
	for i, t := range texts {
		xs[i] = vec.vector(t)
	}
	prog := &progress{fn: opt.Progress}
	logits, gold, err := outOfFold(ctx, examples, vec, xs, y, classes, opt, prog)
	if err != nil {
		return nil, err
	}
	if len(logits) > 0 {
		stats.HeldOut = len(logits)
		temperature = fitTemperature(logits, gold)
		threshold, stats = chooseThreshold(logits, gold, temperature, oos, opt, stats)
	}
	m, err := fit(ctx, vec, xs, y, classes, opt, prog)
	if err != nil {
		return nil, err
	}
	m.temperature = temperature
	m.threshold = threshold
	if opt.OOSThreshold > 0 {
		m.threshold = opt.OOSThreshold
		stats.ThresholdSource = "fixed"
	}
	stats.Features = len(m.vec.IDF)
	stats.TrainTime = time.Since(start)
	m.stats = stats
	m.dataHash = DataHash(examples, opt)
	return m, nil
}

func classesOf(examples []Example) []string {
	seen := map[string]bool{}
	var out []string
	for _, ex := range examples {
		if !seen[ex.Intent] {
			seen[ex.Intent] = true
			out = append(out, ex.Intent)
		}
	}
	return out
}

// progress counts the epochs of a training run, whose folds train in
// parallel, and reports them one call at a time.
type progress struct {
	fn          func(stage string, done, total int)
	mu          sync.Mutex
	done, total int
}

// start reports the total before the first epoch, so that a progress bar
// shows from the beginning.
func (p *progress) start(total int) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	p.fn("training", p.done, p.total)
}

func (p *progress) epoch() {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.fn("training", p.done, max(p.total, p.done))
}

// outOfFold trains one model per fold (in parallel, each deterministic) and
// returns every held-out example's logits with its class index.
func outOfFold(ctx context.Context, examples []Example, vec *vectorizer, xs [][]feature, y []int, classes []string, opt Options, prog *progress) ([][]float64, []int, error) {
	fold := assignFolds(examples, opt)
	logits := make([][]float64, len(examples))
	type foldData struct {
		f      int
		trainX [][]feature
		trainY []int
		held   []int
	}
	var splits []foldData
	for f := 0; f < opt.Folds; f++ {
		s := foldData{f: f}
		for i := range examples {
			if fold[i] == f {
				s.held = append(s.held, i)
			} else {
				s.trainX = append(s.trainX, xs[i])
				s.trainY = append(s.trainY, y[i])
			}
		}
		if len(s.held) > 0 {
			splits = append(splits, s)
		}
	}
	// Every fold, then the final fit on everything.
	prog.start((len(splits) + 1) * opt.Epochs)
	workers := min(runtime.GOMAXPROCS(0), opt.Folds)
	sem := make(chan struct{}, workers)
	errs := make([]error, opt.Folds)
	var wg sync.WaitGroup
	for _, s := range splits {
		wg.Add(1)
		sem <- struct{}{}
		go func(s foldData) {
			defer wg.Done()
			defer func() { <-sem }()
			m, err := fit(ctx, vec, s.trainX, s.trainY, classes, opt, prog)
			if err != nil {
				errs[s.f] = err
				return
			}
			for _, i := range s.held {
				logits[i] = m.logits(xs[i])
			}
		}(s)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	var outL [][]float64
	var gold []int
	for i, l := range logits {
		if l != nil {
			outL = append(outL, l)
			gold = append(gold, y[i])
		}
	}
	return outL, gold, nil
}

// assignFolds deals each intent's examples, in a seeded order, to the
// folds; -1 marks examples of intents too small to hold any out.
func assignFolds(examples []Example, opt Options) []int {
	byIntent := map[string][]int{}
	for i, ex := range examples {
		byIntent[ex.Intent] = append(byIntent[ex.Intent], i)
	}
	fold := make([]int, len(examples))
	for name, idx := range byIntent {
		if len(idx) < opt.Folds || opt.Folds < 2 {
			for _, i := range idx {
				fold[i] = -1
			}
			continue
		}
		r := rand.New(rand.NewPCG(opt.Seed, hashString(name)))
		for pos, p := range r.Perm(len(idx)) {
			fold[idx[p]] = pos % opt.Folds
		}
	}
	return fold
}

func validate(examples []Example, opt Options) error {
	if len(examples) == 0 {
		return baton.Errorf(baton.EINVALID, "intent training: no examples")
	}
	classes := map[string]bool{}
	for i, ex := range examples {
		if strings.TrimSpace(ex.Intent) == "" {
			return baton.Errorf(baton.EINVALID, "intent training: example %d (%q) has no intent", i+1, clip(ex.Text))
		}
		if strings.TrimSpace(ex.Text) == "" {
			return baton.Errorf(baton.EINVALID, "intent training: example %d of intent %q has no text", i+1, ex.Intent)
		}
		if ex.Intent != opt.OOSLabel {
			classes[ex.Intent] = true
		}
	}
	if len(classes) < 2 {
		return baton.Errorf(baton.EINVALID, "intent training: need at least two intents, got %d", len(classes))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// split keeps share of each intent aside, chosen by a seeded shuffle.
// Intents with fewer than five examples keep them all for training.
func split(examples []Example, share float64, seed uint64) (train, held []Example) {
	byIntent := map[string][]int{}
	var names []string
	for i, ex := range examples {
		if _, ok := byIntent[ex.Intent]; !ok {
			names = append(names, ex.Intent)
		}
		byIntent[ex.Intent] = append(byIntent[ex.Intent], i)
	}
	isHeld := make([]bool, len(examples))
	for _, name := range names {
		idx := byIntent[name]
		if len(idx) < 5 {
			continue
		}
		r := rand.New(rand.NewPCG(seed, hashString(name)))
		perm := r.Perm(len(idx))
		n := int(math.Round(float64(len(idx)) * share))
		for _, p := range perm[:n] {
			isHeld[idx[p]] = true
		}
	}
	for i, ex := range examples {
		if isHeld[i] {
			held = append(held, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, held
}

func hashString(s string) uint64 { return hashBytes(seedWord, []byte(s)) }

func (m *Model) index(name string) int {
	for i, n := range m.intents {
		if n == name {
			return i
		}
	}
	return -1
}

// fit trains a softmax regression on examples with SGD. Weight decay uses
// a shared scale factor so that each step touches only the features of its
// example.
func fit(ctx context.Context, vec *vectorizer, xs [][]feature, y []int, classes []string, opt Options, prog *progress) (*Model, error) {
	m := &Model{oos: -1, temperature: 1, intents: classes, vec: vec}
	for i, c := range classes {
		if c == opt.OOSLabel {
			m.oos = i
		}
	}
	k := len(m.intents)
	m.w = make([]float32, len(vec.IDF)*k)
	m.b = make([]float32, k)
	scale := float32(1)
	r := rand.New(rand.NewPCG(opt.Seed, 0x5eed))
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	logits := make([]float32, k)
	grad := make([]float32, k)
	step := 0
	// The weights are averaged over the epochs of the second half: the
	// average generalises better than the last iterate and gives smoother
	// confidences, which is what the out-of-scope threshold reads.
	var avgW, avgB []float32
	averaged := 0
	l2 := float32(opt.L2)
	for epoch := 0; epoch < opt.Epochs; epoch++ {
		if err := ctx.Err(); err != nil {
			return nil, baton.WrapError(baton.EUNAVAILABLE, err, "intent training interrupted")
		}
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			lr := float32(opt.LearningRate / (1 + float64(step)/float64(len(xs))))
			step++
			x := xs[i]
			copy(logits, m.b)
			for _, f := range x {
				row := m.w[int(f.hash)*k : int(f.hash)*k+k]
				v := f.value * scale
				for c, w := range row {
					logits[c] += w * v
				}
			}
			softmax32(logits, grad)
			grad[y[i]] -= 1 // gradient of the loss w.r.t. the logits
			scale *= 1 - lr*l2
			for _, f := range x {
				row := m.w[int(f.hash)*k : int(f.hash)*k+k]
				g := lr * f.value / scale
				for c, p := range grad {
					if p > 1e-5 || p < -1e-5 {
						row[c] -= g * p
					}
				}
			}
			for c, p := range grad {
				m.b[c] -= lr * 0.1 * p
			}
			if scale < 1e-3 {
				for j := range m.w {
					m.w[j] *= scale
				}
				scale = 1
			}
		}
		if epoch >= opt.Epochs/2 {
			if avgW == nil {
				avgW = make([]float32, len(m.w))
				avgB = make([]float32, len(m.b))
			}
			for j, w := range m.w {
				avgW[j] += w * scale
			}
			for j, b := range m.b {
				avgB[j] += b
			}
			averaged++
		}
		prog.epoch()
	}
	inv := 1 / float32(averaged)
	for j := range avgW {
		avgW[j] *= inv
	}
	for j := range avgB {
		avgB[j] *= inv
	}
	m.w, m.b = avgW, avgB
	return m, nil
}

// softmax32 writes the softmax of logits into out.
func softmax32(logits, out []float32) {
	mx := logits[0]
	for _, l := range logits {
		mx = max(mx, l)
	}
	var sum float32
	for i, l := range logits {
		out[i] = float32(math.Exp(float64(l - mx)))
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
}

// fitTemperature minimises the negative log-likelihood of the held-out
// labels over the softmax temperature (golden-section search on log T).
func fitTemperature(logits [][]float64, gold []int) float64 {
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		var s float64
		for i, l := range logits {
			if gold[i] < 0 {
				continue
			}
			p := softmax(l, t)[gold[i]]
			s -= math.Log(max(p, 1e-12))
		}
		return s
	}
	lo, hi := math.Log(0.02), math.Log(20)
	phi := (math.Sqrt(5) - 1) / 2
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := nll(a), nll(b)
	for range 60 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = nll(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}

// chooseThreshold picks the highest out-of-scope threshold that costs at
// most MaxAccuracyLoss of out-of-fold in-scope accuracy, and records how
// much of the out-of-scope data it catches.
func chooseThreshold(logits [][]float64, gold []int, t float64, oos int, opt Options, st Stats) (float64, Stats) {
	type item struct {
		conf    float64
		correct bool // predicted the right in-scope intent
		isOOS   bool
		predOOS bool
	}
	items := make([]item, len(logits))
	nIn, nOOS, correct := 0, 0, 0
	for i, l := range logits {
		p := softmax(l, t)
		best := 0
		for c := range p {
			if p[c] > p[best] {
				best = c
			}
		}
		it := item{conf: p[best], isOOS: oos >= 0 && gold[i] == oos, predOOS: oos >= 0 && best == oos}
		it.correct = !it.isOOS && best == gold[i]
		items[i] = it
		if it.isOOS {
			nOOS++
		} else {
			nIn++
			if it.correct {
				correct++
			}
		}
	}
	st.ThresholdSource = "accuracy-loss"
	if nIn == 0 {
		return 0, st
	}
	st.HeldOutAccuracy = float64(correct) / float64(nIn)
	// Raising the threshold past a correct answer's confidence loses it;
	// the answers are lost in order of confidence.
	var confs []float64
	for _, it := range items {
		if it.correct {
			confs = append(confs, it.conf)
		}
	}
	sort.Float64s(confs)
	loss := opt.MaxAccuracyLoss
	if loss == 0 {
		loss = 0.005
		if nOOS > 0 {
			loss = 0.015
		}
	}
	allowed := int(math.Floor(loss * float64(nIn)))
	threshold := 0.0
	if allowed < len(confs) {
		threshold = confs[allowed] // rejects exactly the `allowed` least confident
	}
	threshold = min(threshold, 0.95)
	if nOOS > 0 {
		caught := 0
		for _, it := range items {
			if it.isOOS && (it.predOOS || it.conf < threshold) {
				caught++
			}
		}
		st.HeldOutOOSRecall = float64(caught) / float64(nOOS)
	}
	return threshold, st
}

// String describes the model in one line, for logs and the CLI.
func (m *Model) String() string {
	return fmt.Sprintf("intent model: %d intents, %d features, T=%.3f, threshold=%.3f (%s), held-out accuracy %.3f",
		len(m.Intents()), len(m.vec.IDF), m.temperature, m.threshold, m.stats.ThresholdSource, m.stats.HeldOutAccuracy)
}
