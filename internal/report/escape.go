package report

import (
	"reflect"

	"github.com/hoofbeat/hoofbeat/internal/visible"
)

// visibleView returns a copy of v with every string escaped for a
// terminal (package visible): the text and Markdown renderers draw this
// copy, so that no name, error body, log or console line from a cloud or a
// host reaches the operator's terminal with its control characters, and
// no line break in a name can start a line of its own. JSON keeps the
// strings as they are (encoding/json escapes them); HTML has html/template.
func visibleView(v *view) *view {
	return escapeCopy(reflect.ValueOf(v)).Interface().(*view)
}

// escapeCopy deep-copies v, escaping every string it holds. Fields it
// cannot set (unexported ones: time.Time, netip.Prefix, shell.Cmd, which
// escapes itself) are copied as they are.
func escapeCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if visible.Safe(s) {
			return v
		}
		return reflect.ValueOf(visible.String(s)).Convert(v.Type())
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(escapeCopy(v.Elem()))
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(escapeCopy(v.Elem()))
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		n.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if f := n.Field(i); f.CanSet() {
				f.Set(escapeCopy(v.Field(i)))
			}
		}
		return n
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(escapeCopy(v.Index(i)))
		}
		return n
	case reflect.Array:
		n := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(escapeCopy(v.Index(i)))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			n.SetMapIndex(escapeCopy(it.Key()), escapeCopy(it.Value()))
		}
		return n
	}
	return v
}
