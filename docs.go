package main

// The man pages and the bash completion, written from the command line's
// own definitions (newApp) so that they cannot drift from it. The
// production binary never calls these (its urfave/cli is built without its
// doc generator); `make install` writes them through docs_test.go.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli"
)

// manPages returns casco(8) and casco-COMMAND(8) for every command, by
// file name (casco.8, casco-create.8, ...).
func manPages(app *cli.App) map[string]string {
	pages := map[string]string{}
	summary, description, _ := strings.Cut(app.Usage, "\n")
	var b strings.Builder
	manHeader(&b, app.Name, strings.TrimSpace(summary), app.Version)
	b.WriteString(".SH SYNOPSIS\n")
	fmt.Fprintf(&b, "\\fB%s\\fR [\\fIglobal options\\fR] \\fIcommand\\fR [\\fIcommand options\\fR] [\\fIarguments\\fR...]\n", app.Name)
	if d := strings.TrimSpace(description); d != "" {
		b.WriteString(".SH DESCRIPTION\n")
		manText(&b, d)
	}
	b.WriteString(".SH GLOBAL OPTIONS\n")
	manFlags(&b, app.Flags)
	b.WriteString(".SH COMMANDS\n")
	var see []string
	for _, c := range app.Commands {
		fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n", manEscape(c.Name))
		manText(&b, c.Usage)
		see = append(see, fmt.Sprintf("\\fB%s-%s\\fR(8)", app.Name, manEscape(c.Name)))
	}
	b.WriteString(".SH SEE ALSO\n" + strings.Join(see, ",\n") + "\n")
	pages[app.Name+".8"] = b.String()

	for _, c := range app.Commands {
		var b strings.Builder
		name := app.Name + "-" + c.Name
		manHeader(&b, name, c.Usage, app.Version)
		b.WriteString(".SH SYNOPSIS\n")
		fmt.Fprintf(&b, "\\fB%s\\fR [\\fIglobal options\\fR] \\fB%s\\fR", app.Name, manEscape(c.Name))
		if len(c.Flags) > 0 {
			b.WriteString(" [\\fIoptions\\fR]")
		}
		if c.ArgsUsage != "" {
			b.WriteString(" " + manEscape(c.ArgsUsage))
		}
		b.WriteString("\n")
		if d := strings.TrimSpace(c.Description); d != "" {
			b.WriteString(".SH DESCRIPTION\n")
			manText(&b, d)
		}
		if len(c.Flags) > 0 {
			b.WriteString(".SH OPTIONS\n")
			manFlags(&b, c.Flags)
		}
		fmt.Fprintf(&b, ".SH SEE ALSO\n\\fB%s\\fR(8)\n", app.Name)
		pages[name+".8"] = b.String()
	}
	return pages
}

func manHeader(b *strings.Builder, name, summary, version string) {
	fmt.Fprintf(b, ".TH %s 8 \"\" \"casco %s\" \"System Administration\"\n", strings.ToUpper(manEscape(name)), manEscape(version))
	fmt.Fprintf(b, ".SH NAME\n%s \\- %s\n", manEscape(name), manEscape(summary))
}

// manFlags lists flags as urfave/cli prints them in --help: names (with a
// value placeholder), then the usage with its default.
func manFlags(b *strings.Builder, flags []cli.Flag) {
	for _, f := range flags {
		names, usage, _ := strings.Cut(cli.FlagStringer(f), "\t")
		fmt.Fprintf(b, ".TP\n\\fB%s\\fR\n", manEscape(names))
		manText(b, usage)
	}
}

// manText writes paragraphs (split at blank lines), lines escaped.
func manText(b *strings.Builder, text string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		for _, line := range strings.Split(para, "\n") {
			b.WriteString(manEscape(strings.TrimSpace(line)) + "\n")
		}
	}
}

// manEscape makes s literal text for roff: backslashes escaped, hyphens
// real minus signs (so flags can be copied), and no line starting with a
// control character.
func manEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// bashCompletion returns a bash completion script for the app: global
// flags and command names, each command's flags, and container IDs (from
// `list -q`) where a command takes one.
func bashCompletion(app *cli.App) string {
	var valued []string // global flags that take a value, so the next word is not the command
	for _, f := range app.Flags {
		if flagTakesValue(f) {
			valued = append(valued, flagNames(f)...)
		}
	}
	var top []string
	for _, f := range app.Flags {
		top = append(top, flagNames(f)...)
	}
	top = append(top, "--help", "--version")
	var b strings.Builder
	fmt.Fprintf(&b, `# bash completion for %[1]s, generated from its command definitions
_%[1]s() {
	local cur=${COMP_WORDS[COMP_CWORD]} cmd= root= i w
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--root) root=${COMP_WORDS[i+1]}; i=$((i + 1)) ;;
		--root=*) root=${w#--root=} ;;
		%[2]s) i=$((i + 1)) ;;
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done
	local npos=0 # arguments already given to the command
	for ((i = i + 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -* ]] || npos=$((npos + 1))
	done
	local words= ids=
	case $cmd in
	"") words="%[3]s" ;;
`, app.Name, strings.Join(valued, "|"), strings.Join(append(top, commandNames(app)...), " "))
	for _, c := range app.Commands {
		var fl []string
		for _, f := range c.Flags {
			fl = append(fl, flagNames(f)...)
		}
		fl = append(fl, "--help")
		sort.Strings(fl)
		fmt.Fprintf(&b, "\t%s) words=%q", c.Name, strings.Join(fl, " "))
		// create, run and restore name a new container
		if strings.HasPrefix(c.ArgsUsage, "<container-id>") && c.Name != "create" && c.Name != "run" && c.Name != "restore" {
			b.WriteString("; ids=1")
		}
		b.WriteString(" ;;\n")
	}
	fmt.Fprintf(&b, `	esac
	if [[ $cur != -* && -n $ids && $npos == 0 ]]; then
		words=$(%[1]s ${root:+--root "$root"} list -q 2>/dev/null)
	elif [[ $cur != -* && -n $cmd ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _%[1]s %[1]s
`, app.Name)
	return b.String()
}

func commandNames(app *cli.App) []string {
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Name)
	}
	return names
}

// flagNames returns a flag's spellings on the command line: "force, f"
// is --force and -f.
func flagNames(f cli.Flag) []string {
	var names []string
	for _, n := range strings.Split(f.GetName(), ",") {
		n = strings.TrimSpace(n)
		if len(n) == 1 {
			names = append(names, "-"+n)
		} else if n != "" {
			names = append(names, "--"+n)
		}
	}
	return names
}

func flagTakesValue(f cli.Flag) bool {
	switch f.(type) {
	case cli.BoolFlag, cli.BoolTFlag:
		return false
	}
	return true
}
