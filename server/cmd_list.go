package server

func registerListCommands(t table) {}
