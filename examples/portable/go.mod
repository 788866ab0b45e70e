module example.com/portable

go 1.22
