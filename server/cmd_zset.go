package server

func registerZSetCommands(t table) {}
