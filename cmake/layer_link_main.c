/*
 * The main() of the layer link checks (CMakeLists.txt, sg_layer): every
 * object of one lib/ folder is linked with only the folders it may use,
 * so a call into a folder above (or beside) it is an undefined reference.
 */
int main(void)
{
	return 0;
}
