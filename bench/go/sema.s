// Empty: lets main.go declare the bodyless functions it links to with
// go:linkname (sync.runtime_Semacquire / sync.runtime_Semrelease).
