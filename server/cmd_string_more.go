package server

func registerMoreStringCommands(t table) {}
