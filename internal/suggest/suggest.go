// Package suggest finds the name someone probably meant, for "did you
// mean" hints in error messages: keys of the manifest, datasets and tasks
// named on the command line, datasets a task opens.
package suggest

// Closest returns the candidate nearest to s, if one is within two edits
// (or a third of s's length, for long names) and shares at least one letter
// with it, and "" otherwise.
func Closest(s string, candidates []string) string {
	limit := max(2, len(s)/3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := distance(s, c); d < bestD && d < len(s) {
			best, bestD = c, d
		}
	}
	return best
}

// DidYouMean returns ` (did you mean "x"?)` for the closest candidate, or
// "".
func DidYouMean(s string, candidates []string) string {
	if c := Closest(s, candidates); c != "" {
		return " (did you mean \"" + c + "\"?)"
	}
	return ""
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
