package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The ceiling for `baton demo` after 1,000 conversations.
const demoRSSCeilingMB = 200

// BenchmarkDemoMemory builds the baton binary, starts `baton demo` on the
// example bot (a copy of examples/sportshop with the web chat's per-address
// post limit off: every visitor of the load comes from 127.0.0.1; the
// product's defaults are untouched) on an empty data directory, and drives
// 1,000 web chat conversations through its HTTP routes, eight at a time:
// each a new visitor who posts a question, reads the bot's answer on the
// reply stream and, when the bot offered buttons ("did this help?", which
// article was meant), clicks one or asks another question and reads that
// answer too. It then reports the process's resident set (VmRSS) and its
// peak (VmHWM) from /proc next to the 200 MB ceiling.
//
//	go test -run '^$' -bench DemoMemory -benchtime 1x ./cmd/baton/
func BenchmarkDemoMemory(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc to read a process's resident memory")
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "baton")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	cfgPath := demoLoadConfig(b, filepath.Join(dir, "sportshop"))
	const conversations, concurrent = 1000, 8
	for b.Loop() {
		d := startDemo(b, bin, cfgPath, filepath.Join(dir, fmt.Sprintf("data-%d", time.Now().UnixNano())))
		startRSS := procStatusMB(b, d.pid, "VmRSS:")
		var next, turns atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, concurrent)
		t0 := time.Now()
		for w := 0; w < concurrent; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 11))
				for {
					i := next.Add(1)
					if i > conversations {
						return
					}
					n, err := d.conversation(rng, fmt.Sprintf("load-visitor-%06d", i))
					if err != nil {
						errs <- fmt.Errorf("conversation %d: %w", i, err)
						return
					}
					turns.Add(int64(n))
				}
			}(w)
		}
		wg.Wait()
		took := time.Since(t0)
		close(errs)
		if err := <-errs; err != nil {
			b.Fatalf("%v\n%s", err, d.logTail())
		}
		rss, hwm := procStatusMB(b, d.pid, "VmRSS:"), procStatusMB(b, d.pid, "VmHWM:")
		d.stop(b)
		b.ReportMetric(rss, "rss-MB")
		b.ReportMetric(hwm, "peak-rss-MB")
		b.ReportMetric(startRSS, "start-rss-MB")
		b.ReportMetric(float64(conversations), "conversations")
		b.ReportMetric(float64(turns.Load())/took.Seconds(), "turns/s")
		b.ReportMetric(0, "ns/op")
		verdict := "met"
		if rss > demoRSSCeilingMB || hwm > demoRSSCeilingMB {
			verdict = "NOT met"
		}
		b.Logf("ceiling %d MB after %d conversations (%d bot turns in %s): %s (resident %.0f MB, peak %.0f MB, %.0f MB at start)",
			demoRSSCeilingMB, conversations, turns.Load(), took.Round(time.Second), verdict, rss, hwm, startRSS)
	}
}

// demoLoadConfig copies the example bot into dir with the web chat's
// per-address post limit off, and returns the copy's configuration file.
func demoLoadConfig(b *testing.B, dir string) string {
	src := filepath.Join("..", "..", "examples", "sportshop")
	err := filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "baton.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		b.Fatal(err)
	}
	limits := yamlMapping(yamlMapping(doc.Content[0], "server"), "limits")
	setYAML(limits, "webchat_posts_per_address", "off")
	out, err := yaml.Marshal(&doc)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// yamlMapping returns the mapping under key in m, added when missing.
func yamlMapping(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	return v
}

func setYAML(m *yaml.Node, key, value string) {
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: yaml.DoubleQuotedStyle}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

// demoProcess is a running `baton demo`.
type demoProcess struct {
	cmd    *exec.Cmd
	pid    int
	base   string
	log    *os.File
	client *http.Client
	seq    atomic.Int64
}

var demoURL = regexp.MustCompile(`Open (http://\S+?)/?\n`)

func startDemo(b *testing.B, bin, cfgPath, dataDir string) *demoProcess {
	logFile, err := os.Create(dataDir + ".log")
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "demo", "--config", cfgPath, "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json")
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	d := &demoProcess{cmd: cmd, pid: cmd.Process.Pid, log: logFile, client: &http.Client{Timeout: 30 * time.Second}}
	b.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		logFile.Close()
	})
	found := make(chan string, 1)
	go func() {
		var seen bytes.Buffer
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			seen.WriteString(line)
			if m := demoURL.FindStringSubmatch(seen.String()); m != nil {
				found <- m[1]
				_, _ = io.Copy(io.Discard, r)
				return
			}
			if err != nil {
				close(found)
				return
			}
		}
	}()
	select {
	case u, ok := <-found:
		if !ok {
			b.Fatalf("the demo stopped before it was ready\n%s", d.logTail())
		}
		d.base = u
	case <-time.After(2 * time.Minute):
		b.Fatalf("the demo did not start in 2 minutes\n%s", d.logTail())
	}
	return d
}

// stop ends the demo as Ctrl-C does and waits for it.
func (d *demoProcess) stop(b *testing.B) {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			b.Errorf("the demo exited with %v\n%s", err, d.logTail())
		}
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		b.Errorf("the demo did not stop on SIGTERM\n%s", d.logTail())
	}
}

func (d *demoProcess) logTail() string {
	data, _ := os.ReadFile(d.log.Name())
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// demoQuestions are first messages of the example shop's customers.
var demoQuestions = []string{
	"How long does delivery take?", "I forgot my password, how do I reset it?", "when will I get my refund",
	"can I cancel my order", "Do you ship to Germany?", "I'm between two sizes in running shoes, which one should I pick?",
	"Can I pay in instalments?", "How do I start a return?", "Is there a warranty on football boots?",
	"can I use two promo codes on one order", "I need to change the delivery address on my order", "how do gift cards work",
	"hi there", "where is my order SS-10001?", "has my order SS-10003 shipped yet?", "has my order shipped yet?", "do you have express delivery", "what payment methods do you accept",
	"my parcel arrived damaged, how do I send a photo", "I want to talk to a real person please",
	"Şifremi unuttum, nasıl sıfırlarım?", "Kargo kaç günde gelir?", "Как отменить заказ?", "Сколько идёт доставка?",
}

// chatEvent is what the reply stream sends for one transcript entry.
type chatEvent struct {
	ID        int64  `json:"id"`
	Direction string `json:"direction"`
	Text      string `json:"text"`
	Buttons   []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"buttons"`
}

// conversation is one visitor's: a question, the bot's answer and, when
// the answer offers buttons, a click or another question and its answer.
// It returns the number of bot turns it waited for.
func (d *demoProcess) conversation(rng *rand.Rand, visitor string) (int, error) {
	first, err := d.say(visitor, demoQuestions[rng.IntN(len(demoQuestions))], "")
	if err != nil {
		return 0, err
	}
	replies, err := d.replies(visitor, first)
	if err != nil {
		return 1, err
	}
	last := replies[len(replies)-1]
	if len(last.Buttons) == 0 {
		return 1, nil
	}
	var msgID int64
	if rng.IntN(3) == 0 {
		msgID, err = d.say(visitor, demoQuestions[rng.IntN(len(demoQuestions))], "")
	} else {
		btn := last.Buttons[rng.IntN(len(last.Buttons))]
		msgID, err = d.say(visitor, btn.Title, btn.ID)
	}
	if err != nil {
		return 1, err
	}
	_, err = d.replies(visitor, msgID)
	return 2, err
}

// say posts a message as the chat page does and returns its id.
func (d *demoProcess) say(visitor, text, payload string) (int64, error) {
	body, _ := json.Marshal(map[string]string{"visitor_id": visitor, "client_message_id": fmt.Sprintf("m-%s-%d", visitor, d.seq.Add(1)),
		"text": text, "payload": payload})
	resp, err := d.client.Post(d.base+"/chat/sportshop/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("post %q: %s: %s", text, resp.Status, data)
	}
	var r struct {
		MessageID int64 `json:"message_id"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.MessageID == 0 {
		return 0, fmt.Errorf("post %q: answer %s", text, data)
	}
	return r.MessageID, nil
}

// replies reads the reply stream after message id until the bot's answer
// to it is there: every message of one turn is stored in one transaction,
// so once a poll of the stream shows an outbound message (a ": ping"
// comment ends each poll), the turn's replies are all in it.
func (d *demoProcess) replies(visitor string, after int64) ([]chatEvent, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := url.Values{"visitor_id": {visitor}, "after": {strconv.FormatInt(after, 10)}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/chat/sportshop/stream?"+q.Encode(), nil)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("stream: %s: %s", resp.Status, data)
	}
	var out []chatEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "data: "):
			var ev chatEvent
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev); err != nil {
				return nil, fmt.Errorf("stream event %q: %w", line, err)
			}
			if ev.Direction == "out" {
				out = append(out, ev)
			}
		case strings.HasPrefix(line, ": ping") && len(out) > 0:
			return out, nil
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("no answer to message %d: %w", after, err)
	}
	return nil, fmt.Errorf("no answer to message %d in 30 s", after)
}

// procStatusMB reads a kB field of /proc/<pid>/status in MB.
func procStatusMB(b *testing.B, pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
