from cargoscan.logs import progress


def test_progress_bars_leave_standard_output_to_the_command(capsys):
    with progress() as bar:
        task = bar.add_task("render", total=3)
        for _ in range(3):
            bar.advance(task)
    out, err = capsys.readouterr()
    assert out == ""
    assert "render" in err
