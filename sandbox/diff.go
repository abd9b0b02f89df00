package sandbox

import (
	"fmt"
	"strings"
)

// Diff limits keep plans readable and bounded: a plan is read by a human
// and returned to an agent, neither of whom wants 10,000 lines.
const (
	maxDiffLines   = 120
	maxDiffCompare = 1500 // lines per side the LCS table may span (9 MB at most)
)

// unifiedDiff returns a unified diff of two texts with three lines of
// context, or "" when they are equal.
func unifiedDiff(name, a, b string) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	// Trim the common head and tail: most edits are local, and it keeps
	// the quadratic part small.
	pre := 0
	for pre < len(al) && pre < len(bl) && al[pre] == bl[pre] {
		pre++
	}
	suf := 0
	for suf < len(al)-pre && suf < len(bl)-pre && al[len(al)-1-suf] == bl[len(bl)-1-suf] {
		suf++
	}
	am, bm := al[pre:len(al)-suf], bl[pre:len(bl)-suf]
	if len(am) > maxDiffCompare || len(bm) > maxDiffCompare {
		return fmt.Sprintf("--- %s (live)\n+++ %s (staged)\n@@ %d lines replaced by %d lines (too large to show line by line) @@\n", name, name, len(am), len(bm))
	}
	ops := lcsOps(am, bm)
	// Rebuild full-length op list with the common head and tail as context.
	type line struct {
		op   byte // ' ', '-', '+'
		text string
		ai   int // 1-based line in a (for hunk headers)
		bi   int
	}
	var all []line
	ai, bi := 1, 1
	for i := 0; i < pre; i++ {
		all = append(all, line{' ', al[i], ai, bi})
		ai++
		bi++
	}
	for _, o := range ops {
		all = append(all, line{o.op, o.text, ai, bi})
		switch o.op {
		case ' ':
			ai++
			bi++
		case '-':
			ai++
		case '+':
			bi++
		}
	}
	for i := len(al) - suf; i < len(al); i++ {
		all = append(all, line{' ', al[i], ai, bi})
		ai++
		bi++
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s (live)\n+++ %s (staged)\n", name, name)
	const ctx = 3
	written := 0
	for i := 0; i < len(all); {
		if all[i].op == ' ' {
			i++
			continue
		}
		start := max(0, i-ctx)
		end := i
		for end < len(all) {
			if all[end].op != ' ' {
				end++
				continue
			}
			// a run of context longer than 2*ctx closes the hunk
			run := end
			for run < len(all) && all[run].op == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(all) {
				end = min(len(all), end+ctx)
				break
			}
			end = run
		}
		na, nb := 0, 0
		for _, l := range all[start:end] {
			if l.op != '+' {
				na++
			}
			if l.op != '-' {
				nb++
			}
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", all[start].ai, na, all[start].bi, nb)
		for _, l := range all[start:end] {
			if written == maxDiffLines {
				fmt.Fprintf(&out, "… (diff truncated at %d lines)\n", maxDiffLines)
				return out.String()
			}
			out.WriteByte(l.op)
			out.WriteString(l.text)
			out.WriteByte('\n')
			written++
		}
		i = end
	}
	return out.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

type diffOp struct {
	op   byte
	text string
}

// lcsOps computes an edit script by longest common subsequence.
func lcsOps(a, b []string) []diffOp {
	n, m := len(a), len(b)
	// dp[i][j] = LCS length of a[i:], b[j:], flattened.
	dp := make([]int32, (n+1)*(m+1))
	w := m + 1
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i*w+j] = dp[(i+1)*w+j+1] + 1
			} else {
				dp[i*w+j] = max(dp[(i+1)*w+j], dp[i*w+j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i]})
			i++
			j++
		case dp[(i+1)*w+j] >= dp[i*w+j+1]:
			ops = append(ops, diffOp{'-', a[i]})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, diffOp{'-', a[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, diffOp{'+', b[j]})
	}
	return ops
}
