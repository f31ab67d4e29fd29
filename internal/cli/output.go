package cli

import (
	"fmt"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/report"
)

// outputFormats are diagnose's --output values.
var outputFormats = []string{"text", "json", "markdown", "html"}

func checkOutput(format string) error {
	for _, f := range outputFormats {
		if f == format {
			return nil
		}
	}
	return usageError("unknown output format %q (want %s)", format, strings.Join(outputFormats, ", "))
}

// render writes the report in the chosen format, redacted on request.
func (o *DiagnoseOptions) render(rep *report.Report) error {
	if o.Redact {
		rep = report.Redact(rep)
	}
	var err error
	switch o.Output {
	case "json":
		err = report.JSON(o.IO.Out, rep)
	case "markdown":
		err = report.Markdown(o.IO.Out, rep)
	case "html":
		err = report.HTML(o.IO.Out, rep)
	default:
		err = report.Text(o.IO.Out, rep, report.TextOptions{Color: o.IO.colour(), Width: o.IO.Width, Quiet: o.Quiet})
	}
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
