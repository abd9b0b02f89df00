package lru

import "reflect"

// SizeOf estimates the bytes v holds: its own size plus whatever its
// pointers, strings, slices, maps and interfaces reach, each pointer
// target, slice array and map counted once per call. Strings are counted
// wherever they appear (two fields sharing one string count twice), which
// errs on the heavy side. Map buckets are estimated.
// It is meant for size functions of entries that are structures rather
// than plain strings; it costs time in proportion to the number of
// objects it reaches, not to their bytes.
func SizeOf(v any) int64 {
	if v == nil {
		return 0
	}
	rv := reflect.ValueOf(v)
	w := walker{seen: map[uintptr]bool{}}
	return int64(rv.Type().Size()) + w.beyond(rv)
}

type walker struct {
	seen map[uintptr]bool
}

// once reports whether the memory at p has not been counted yet.
func (w *walker) once(p uintptr) bool {
	if p == 0 || w.seen[p] {
		return false
	}
	w.seen[p] = true
	return true
}

// beyond is what v reaches outside its own Type().Size() bytes.
func (w *walker) beyond(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Pointer:
		if v.IsNil() || !w.once(v.Pointer()) {
			return 0
		}
		e := v.Elem()
		return int64(e.Type().Size()) + w.beyond(e)
	case reflect.Slice:
		if v.IsNil() || !w.once(v.Pointer()) {
			return 0
		}
		n := int64(v.Cap()) * int64(v.Type().Elem().Size())
		for i := range v.Len() {
			n += w.beyond(v.Index(i))
		}
		return n
	case reflect.Array:
		var n int64
		for i := range v.Len() {
			n += w.beyond(v.Index(i))
		}
		return n
	case reflect.Struct:
		var n int64
		for i := range v.NumField() {
			n += w.beyond(v.Field(i))
		}
		return n
	case reflect.Map:
		if v.IsNil() || !w.once(v.Pointer()) {
			return 0
		}
		t := v.Type()
		// A slot per entry, a control byte and room to grow: about 1.5×.
		n := int64(v.Len()) * int64(t.Key().Size()+t.Elem().Size()+1) * 3 / 2
		for it := v.MapRange(); it.Next(); {
			n += w.beyond(it.Key()) + w.beyond(it.Value())
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		if e.Kind() == reflect.Pointer {
			return w.beyond(e)
		}
		// A non-pointer value in an interface is boxed on the heap (small
		// scalars may not be; counting them anyway errs on the safe side).
		return int64(e.Type().Size()) + w.beyond(e)
	}
	return 0
}
