"""The dashboard's widgets. They only render what they are given; screens decide what to show."""
