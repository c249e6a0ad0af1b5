from llmd_compile.cli import main

main()
