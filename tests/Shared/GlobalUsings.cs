global using Liber.Testing;
